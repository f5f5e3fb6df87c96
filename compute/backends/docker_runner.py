"""The run half of the `docker` backend: a job's command in a container.

The code is mounted read-only, `outputs/` (and inputs) as given by the RunSpec's mounts, nothing
else of the host; CPU and memory limits are applied (no swap beyond the memory limit, so exceeding
it is an OOM kill that we report as such) and a PID limit. The container runs as a non-root user
with every capability dropped and no-new-privileges; it shares the host network
(`network_mode="host"`: no networks are created). Its output is read through an attach made
before it starts, so no line is lost to log rotation. Containers are labelled with the job, this
install and the node, so that leftovers of a dead worker on this node can be found and removed
(`remove_leftovers`) without touching anyone else's. Images are never pulled.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Callable

from django.conf import settings

from compute.backends.process_runner import RunResult, RunSpec, Sink

LABEL = "studio.job"
INSTALL_LABEL = "studio.install"
NODE_LABEL = "studio.node"
NOBODY = 65534
# The docker SDK is imported where an engine is used, not at the top: importing it loads paramiko
# (its ssh:// transport), about a second on a busy 2-core machine, and this module is imported at
# start-up by every Django process (compute.backends, compute.capabilities), the web and the
# management commands included, most of which never talk to an engine.


def docker_client(base_url: str = "", timeout: int = 60):
    import docker  # the docker SDK on use (see the note at the top)

    if base_url:
        return docker.DockerClient(base_url=base_url, timeout=timeout)
    return docker.from_env(timeout=timeout)


def image_env(client, image: str) -> dict[str, str]:
    """The environment variables baked into an image (PATH above all)."""
    config = client.images.get(image).attrs.get("Config") or {}
    out = {}
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


class DockerRun:
    """A job container. Use as a context manager: on exit the container is killed and removed.

    with DockerRun(spec) as run:
        run.pump(sink)
        result = run.wait()
    """

    def __init__(self, spec: RunSpec, client=None):
        """`client`: an open docker client (an attached engine's, with its TLS material); by
        default one for `spec.docker_host` or the local engine, closed on exit."""
        self.spec = spec
        self._own_client = client is None
        self.client = client if client is not None else docker_client(spec.docker_host)
        self.container = None
        self._stream = None
        self._killed = threading.Event()

    def start(self) -> None:
        from docker.types import LogConfig  # the docker SDK on use (see the note at the top)

        spec = self.spec
        volumes = {str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts}
        uid, gid = job_user()
        if (uid, gid) != (os.getuid(), os.getgid()):
            for mount in spec.mounts:  # the job's own copies; read-only mounts stay read-only
                chown_tree(mount.source, uid, gid)
        kwargs = {}
        if spec.cpu:
            # A target sized bigger than this engine (4 cores on a 2-core host) gets all it has,
            # rather than Docker's "Range of CPUs is from 0.01 to 2.00" for every job.
            engine_cpus = self.client.info().get("NCPU") or spec.cpu
            kwargs["nano_cpus"] = int(min(spec.cpu, engine_cpus) * 1e9)
        if spec.memory:
            kwargs["mem_limit"] = spec.memory
            kwargs["memswap_limit"] = spec.memory
        if spec.shm_size:
            kwargs["shm_size"] = spec.shm_size
        self.container = self.client.containers.create(
            spec.image,
            command=["/bin/bash", "-c", spec.command],
            working_dir=spec.container_workdir or None,
            environment=spec.env,
            volumes=volumes,
            network_mode="host",
            user=f"{uid}:{gid}",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            pids_limit=settings.STUDIO_JOB_PIDS_LIMIT,
            labels={LABEL: spec.label, INSTALL_LABEL: settings.STUDIO_INSTALL_ID, **spec.labels},
            stdin_open=False,
            tty=False,
            init=True,
            # The output is read through the attach stream below, never from the engine's log
            # file: a rotating json-file log loses what it rotates away before it is read.
            log_config=LogConfig(type="none"),
            **kwargs,
        )
        # Attached before the start, so the stream holds the very first byte and every one after.
        self._stream = self.client.api.attach(self.container.id, stdout=True, stderr=True, stream=True, logs=False)
        self.container.start()

    def pump(self, sink: Sink) -> None:
        """Pass the container's output to `sink` until it ends."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stream = self._stream
        try:
            for chunk in stream:
                if chunk:
                    sink(decoder.decode(chunk))
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        tail = decoder.decode(b"", final=True)
        if tail:
            sink(tail)

    def wait(self) -> RunResult:
        import docker.errors  # the docker SDK on use (see the note at the top)

        status = self.container.wait()
        try:
            self.container.reload()
            state = self.container.attrs.get("State") or {}
        except docker.errors.NotFound:
            state = {}
        return RunResult(
            exit_code=status.get("StatusCode", state.get("ExitCode")),
            oom_killed=bool(state.get("OOMKilled")),
            killed=self._killed.is_set(),
        )

    def kill(self, grace: float = 2.0) -> None:
        """Stop the container: SIGTERM, SIGKILL after `grace` seconds. Returns at once."""
        if self.container is None or self._killed.is_set():
            return
        self._killed.set()
        container = self.container
        threading.Thread(target=_stop, args=(container, grace), daemon=True).start()

    def __enter__(self) -> DockerRun:
        try:
            self.start()
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._remove()

    def _remove(self) -> None:
        import docker.errors  # the docker SDK on use (see the note at the top)

        if self.container is not None:
            try:
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass
            self.container = None
        if self._own_client:
            self.client.close()


def _stop(container, grace: float) -> None:
    import docker.errors  # the docker SDK on use (see the note at the top)

    try:
        container.stop(timeout=max(1, int(grace)))
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:
        try:
            container.kill()
        except docker.errors.APIError:
            pass


def remove_leftovers(is_over: Callable[[str], bool], client, node: str) -> int:
    """Remove this install's job containers on `node` whose job is over (their worker died before
    it could): only containers labelled with this install's id and this node are looked at, and
    one is kept while `is_over(label)` says its job still runs. A container that is already gone
    (removed by its own runner meanwhile) is skipped. Returns how many were removed."""
    import docker.errors  # the docker SDK on use (see the note at the top)

    wanted = [f"{INSTALL_LABEL}={settings.STUDIO_INSTALL_ID}", f"{NODE_LABEL}={node}"]
    removed = 0
    # The low-level listing: one call, labels included, no per-container inspect that could race
    # with a container's own removal.
    for row in client.api.containers(all=True, filters={"label": wanted}):
        label = (row.get("Labels") or {}).get(LABEL, "")
        if label and is_over(label):
            try:
                client.api.remove_container(row["Id"], force=True)
                removed += 1
            except docker.errors.APIError:  # NotFound included: it went away by itself
                pass
    return removed


def job_user() -> tuple[int, int]:
    """The uid:gid a job container runs as: the worker's own, or nobody's when the worker is root
    (a job must never be root in its container)."""
    uid, gid = os.getuid(), os.getgid()
    return (uid, gid) if uid != 0 else (NOBODY, NOBODY)


def chown_tree(folder, uid: int, gid: int) -> None:
    """Hand the job's folders (its own copies of code, inputs, outputs) to the container's user."""
    for root, dirs, files in os.walk(folder):
        for name in (root, *(os.path.join(root, n) for n in dirs + files)):
            os.lchown(name, uid, gid)
