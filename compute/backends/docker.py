"""The `docker` backend's build half: an image per spec hash, tagged `studio-env:<spec hash>`.

A conda/pip environment becomes the base image plus one layer that installs its packages into
/opt/studio-env with uv (uv itself is copied in from Studio's own virtualenv, so base images need
only a Python). A build context is built as the user gave it. Images are never pulled: every
FROM must already be in the engine. The build log is streamed line by line as Docker sends it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from compute.backends.base import BuildError, BuildOutput, BuildSpec, LogFn, failing_line, uv_binary

REPOSITORY = "studio-env"
ENV_PREFIX = "/opt/studio-env"
FREEZE_FILE = f"{ENV_PREFIX}/studio-freeze.txt"
# The docker SDK is imported where an engine is used, not at the top: importing it loads paramiko
# (its ssh:// transport), about a second on a busy 2-core machine, and this module is imported at
# start-up by every Django process (compute.backends, compute.capabilities), the web and the
# management commands included, most of which never talk to an engine.


def client(timeout: int | None = None):
    import docker  # the docker SDK on use (see the note at the top)

    return docker.from_env(timeout=timeout or settings.STUDIO_BUILD_TIMEOUT)


class DockerBackend:
    kind = "docker"
    product = "image"

    def available(self) -> tuple[bool, str]:
        try:
            c = client(timeout=5)
            c.ping()
            return True, f"Docker {c.version().get('Version', '')}".strip()
        except Exception as exc:  # any failure to reach the engine means "not available", with its reason
            return False, f"Docker engine not reachable: {exc}"

    def tag_for(self, spec_hash: str) -> str:
        return f"{REPOSITORY}:{spec_hash}"

    def exists(self, location: str) -> bool:
        import docker.errors  # the docker SDK on use (see the note at the top)

        try:
            client(timeout=10).images.get(location)
        except docker.errors.DockerException:  # ImageNotFound, or an engine that cannot tell
            return False
        return True

    def build(self, spec: BuildSpec, log: LogFn, *, nocache: bool = False) -> BuildOutput:
        import docker.errors  # the docker SDK on use (see the note at the top)

        if spec.user_managed:
            raise BuildError(
                "User-managed environments are used as they are and are not built into images.",
                "User-managed dependencies: nothing to build on the docker backend; run it on the venv backend.",
            )
        ok, reason = self.available()
        if not ok:
            raise BuildError(reason, f"Docker is not available here: {reason}")
        tag = self.tag_for(spec.spec_hash)
        engine = client()
        with tempfile.TemporaryDirectory(prefix="studio-build-") as tmp:
            context = Path(tmp) / "context"
            if spec.context_dir is not None:
                shutil.copytree(spec.context_dir, context)
                dockerfile = spec.dockerfile_path or "Dockerfile"
                if not (context / dockerfile).is_file():
                    raise BuildError(f"The build context has no {dockerfile}.")
                python = "python3"
            else:
                context.mkdir()
                dockerfile = "Dockerfile"
                python = self._write_layer(context, spec)
            self._copy_ca_bundle(context)
            text = (context / dockerfile).read_text(errors="replace")
            base_ids = self._check_bases(engine, text, log)
            what = "your build context" if spec.context_dir else "base image + packages"
            log(f"$ docker build --network host -t {tag} ({what})")
            image_id = self._stream_build(engine, context, dockerfile, tag, spec, log, nocache=nocache)
        try:
            image = engine.images.get(tag)
        except docker.errors.ImageNotFound:
            raise BuildError(f"Docker reported success but {tag} is not in the engine.") from None
        resolved = self._resolved_packages(engine, tag)
        log(f"Image {tag} ({(image_id or image.id)[:19]}), {len(resolved)} package(s) recorded.")
        return BuildOutput(
            python=f"{ENV_PREFIX}/bin/python" if spec.context_dir is None and spec.requirements else python,
            image=tag,
            resolved_packages=resolved,
            base_image_id=base_ids[0] if base_ids else "",
            location=tag,
        )

    # -- pieces -------------------------------------------------------------------------------

    def _write_layer(self, context: Path, spec: BuildSpec) -> str:
        """The Dockerfile of a conda/pip environment: the base image, and uv installing the
        packages into a venv that comes first on PATH. Returns the interpreter jobs should use."""
        base = spec.image or settings.STUDIO_BASE_IMAGE
        lines = [f"FROM {base}"]  # the spec-hash label is added by the build call, after every layer
        if not spec.requirements:
            (context / "Dockerfile").write_text("\n".join(lines) + "\n")
            return "python3"
        studio = context / ".studio"
        studio.mkdir()
        shutil.copy2(uv_binary(), context / "studio-uv")
        (studio / "requirements.txt").write_text("\n".join(spec.requirements) + "\n")
        # A file the RUN sources, not ENV: these steer the install and are not kept in the image.
        variables = {
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_COMPILE_BYTECODE": "1",
            "UV_NO_PROGRESS": "1",
            "UV_CACHE_DIR": "/tmp/studio-uv-cache",
            "NO_COLOR": "1",
        }
        if settings.STUDIO_CA_BUNDLE:
            variables |= {"SSL_CERT_FILE": "/opt/studio-build/ca.crt", "PIP_CERT": "/opt/studio-build/ca.crt"}
        variables |= spec.build_env
        (studio / "build.env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in variables.items()))
        python = spec.python or "python3"
        uv = "studio-uv --no-config"
        lines += [
            # uv first, on its own: that layer is shared by every environment on this base image.
            "COPY studio-uv /usr/local/bin/studio-uv",
            "COPY .studio/ /opt/studio-build/",
            "RUN set -e; set -a; . /opt/studio-build/build.env; set +a; "
            f"{uv} venv --python {shlex.quote(python)} {ENV_PREFIX}; "
            f"{uv} pip install --python {ENV_PREFIX}/bin/python -r /opt/studio-build/requirements.txt; "
            f"{uv} pip freeze --python {ENV_PREFIX}/bin/python > {FREEZE_FILE}; "
            "rm -rf /opt/studio-build /tmp/studio-uv-cache",
            f"ENV VIRTUAL_ENV={ENV_PREFIX} PATH={ENV_PREFIX}/bin:$PATH",
        ]
        (context / "Dockerfile").write_text("\n".join(lines) + "\n")
        return f"{ENV_PREFIX}/bin/python"

    def _copy_ca_bundle(self, context: Path) -> None:
        """The network here needs its CA bundle; a build context gets it as .studio/ca.crt."""
        if settings.STUDIO_CA_BUNDLE:
            (context / ".studio").mkdir(exist_ok=True)
            shutil.copy2(settings.STUDIO_CA_BUNDLE, context / ".studio" / "ca.crt")

    def _check_bases(self, engine, dockerfile: str, log: LogFn) -> list[str]:
        """Every FROM image must be in the engine already (Studio never pulls). Returns their ids."""
        import docker.errors  # the docker SDK on use (see the note at the top)

        stages: set[str] = set()
        ids = []
        for image, alias in from_lines(dockerfile):
            if image.lower() == "scratch" or image in stages or "$" in image:
                if alias:
                    stages.add(alias)
                continue
            try:
                found = engine.images.get(image)
            except docker.errors.ImageNotFound:
                raise BuildError(
                    f"The base image {image} is not in this Docker engine.", missing_image_message(engine, image)
                ) from None
            log(f"Base image {image}: {found.id}")
            ids.append(found.id)
            if alias:
                stages.add(alias)
        return ids

    def _stream_build(self, engine, context: Path, dockerfile: str, tag: str, spec, log: LogFn, *, nocache: bool):
        import docker.errors  # the docker SDK on use (see the note at the top)

        image_id = ""
        errors: list[str] = []
        lines: list[str] = []
        pending = ""
        try:
            stream = engine.api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                rm=True,
                forcerm=True,
                pull=False,
                nocache=nocache,
                network_mode="host",
                labels={"studio.spec_hash": spec.spec_hash},
                decode=True,
            )
            for chunk in stream:
                if "stream" in chunk:
                    pending += chunk["stream"]
                    while "\n" in pending:
                        line, pending = pending.split("\n", 1)
                        lines.append(line)
                        log(line)
                if "error" in chunk:
                    errors.append(str(chunk["error"]).strip())
                    log(f"ERROR: {chunk['error']}".rstrip())
                if "aux" in chunk and isinstance(chunk["aux"], dict):
                    image_id = chunk["aux"].get("ID", image_id)
        except docker.errors.APIError as exc:
            raise BuildError(f"Docker refused the build: {exc.explanation or exc}") from None
        if pending:
            lines.append(pending)
            log(pending)
        if errors:
            headline = failing_line(lines) or errors[-1]
            raise BuildError(errors[-1], headline)
        return image_id

    def _resolved_packages(self, engine, tag: str) -> list[str]:
        """`pip freeze` of the image, read in a throwaway container with no network."""
        import docker.errors  # the docker SDK on use (see the note at the top)

        script = (
            f"cat {FREEZE_FILE} 2>/dev/null || python3 -m pip list --format=freeze 2>/dev/null "
            "|| python -m pip list --format=freeze 2>/dev/null || true"
        )
        try:
            out = engine.containers.run(
                tag, [script], entrypoint=["/bin/sh", "-c"], network_mode="none", remove=True, stderr=False
            )
        except docker.errors.DockerException:
            return []
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
        return sorted({line.strip() for line in text.splitlines() if "==" in line or " @ " in line}, key=str.lower)


_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)


def from_lines(dockerfile: str) -> list[tuple[str, str]]:
    """(image, stage alias) of each FROM instruction."""
    out = []
    for line in dockerfile.splitlines():
        match = _FROM.match(line)
        if match:
            out.append((match.group(1), match.group(2) or ""))
    return out


def engine_images(engine, limit: int = 8) -> list[str]:
    """Tagged images this engine has that an environment could start from (Studio's own
    environment images left out), the configured base image first."""
    tags = sorted({tag for found in engine.images.list() for tag in found.tags if not tag.startswith(REPOSITORY + ":")})
    tags.sort(key=lambda tag: tag != settings.STUDIO_BASE_IMAGE)
    return tags[:limit]


def missing_image_message(engine, image: str) -> str:
    """What to do about a base image the engine does not have (Studio never pulls)."""
    have = engine_images(engine)
    offer = f"This engine has: {', '.join(have)}." if have else "This engine has no tagged images."
    if image == settings.STUDIO_BASE_IMAGE:
        return (
            f"Base image {image} (the configured STUDIO_BASE_IMAGE) is not in this Docker engine, and Studio never "
            f"pulls images. {offer} Set STUDIO_BASE_IMAGE to one of them, "
            "or load the image (docker load / docker build)."
        )
    return (
        f"Base image {image} is not in this Docker engine, and Studio never pulls images. {offer} "
        "Use one of them as the image, or load it first (docker load / docker build)."
    )
