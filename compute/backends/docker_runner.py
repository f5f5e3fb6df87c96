"""The run half of the `docker` backend: a job's command in a container.

The code is mounted read-only, `outputs/` (and inputs) as given by the RunSpec's mounts; CPU and
memory limits are applied (no swap beyond the memory limit, so exceeding it is an OOM kill that
we report as such); the container shares the host network (`network_mode="host"`: no networks
are created). Containers are labelled with the job so that leftovers of a dead worker can be
found and removed (`remove_leftovers`). Images are never pulled.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Callable

from compute.backends.process_runner import RunResult, RunSpec, Sink

LABEL = "studio.job"


def docker_client(base_url: str = "", timeout: int = 60):
    import docker

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
        self._killed = threading.Event()

    def start(self) -> None:
        from docker.types import LogConfig

        spec = self.spec
        volumes = {str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts}
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
            user=f"{os.getuid()}:{os.getgid()}",
            labels={LABEL: spec.label, **spec.labels},
            stdin_open=False,
            tty=False,
            init=True,
            log_config=LogConfig(type="json-file", config={"max-size": "20m", "max-file": "1"}),
            **kwargs,
        )
        self.container.start()

    def pump(self, sink: Sink) -> None:
        """Pass the container's output to `sink` until it ends."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # `logs(follow=True)` (not attach): it also ends at once for a container that is already over.
        stream = self.container.logs(stdout=True, stderr=True, stream=True, follow=True)
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
        status = self.container.wait()
        self.container.reload()
        state = self.container.attrs.get("State") or {}
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
        import docker.errors

        if self.container is not None:
            try:
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass
            self.container = None
        if self._own_client:
            self.client.close()


def _stop(container, grace: float) -> None:
    import docker.errors

    try:
        container.stop(timeout=max(1, int(grace)))
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:
        try:
            container.kill()
        except docker.errors.APIError:
            pass


def remove_leftovers(is_finished: Callable[[str], bool], client) -> int:
    """Remove job containers whose job is over (their worker died before it could): a container is
    kept only while `is_finished(label)` says its job still runs. Returns how many were removed."""
    import docker.errors

    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        label = container.labels.get(LABEL, "")
        if label and is_finished(label):
            try:
                container.remove(force=True)
                removed += 1
            except docker.errors.APIError:
                pass
    return removed
