"""An instance's log (its inference server's output, the scoring script's prints and errors too) as
a durable stream in the database (`studio.logs`), named `endpoint-instance/<pk>/server.log`.

The server writes `server.log` in its folder on its node, which may be another machine than the
web's; that node's keeper ships what is new in it every round (`ship`, from the byte offset
remembered on the row) and the Logs tab, the logs API and the failure detail read the stream.
A restarted instance appends to the same stream; the stream goes with the row (`forget`).
"""

from __future__ import annotations

import os
import stat

from endpoints.models import DeploymentInstance
from endpoints.runtimes import open_log
from studio import logs

MAX_SHIP = 4 * 1024 * 1024  # per instance and round: a flood is shipped over several rounds


def stream(instance_pk: int) -> str:
    return f"endpoint-instance/{instance_pk}/server.log"


def _prefix(instance_pk: int) -> str:
    return f"endpoint-instance/{instance_pk}/"


def local_size(path) -> int:
    """The size of the log file on this node (0 for none, or for a symlink the server planted)."""
    try:
        found = os.lstat(path)
    except OSError:
        return 0
    return found.st_size if stat.S_ISREG(found.st_mode) else 0


def _whole_utf8(chunk: bytes) -> bytes:
    """Drop an incomplete UTF-8 sequence at the end (it is shipped whole next round)."""
    for back in range(1, min(4, len(chunk)) + 1):
        byte = chunk[-back]
        if byte & 0xC0 == 0x80:
            continue  # a continuation byte: look further back for the lead byte
        need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
        return chunk[:-back] if need > back else chunk
    return chunk


def ship(instance: DeploymentInstance, path, *, final: bool = False) -> int:
    """Append what this node's `server.log` gained since the row's `log_offset` to the stream;
    returns the characters shipped. `final` (the server has ended) ships an incomplete UTF-8
    sequence at the end too. Never through a symlink (`open_log`)."""
    offset = instance.log_offset
    try:
        with open_log(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:  # the file was replaced under us: start over
                offset = 0
            handle.seek(offset)
            chunk = handle.read(MAX_SHIP)
    except OSError:
        return 0
    if not final or len(chunk) == MAX_SHIP:
        chunk = _whole_utf8(chunk)
    if not chunk:
        if offset != instance.log_offset:
            instance.log_offset = offset
            DeploymentInstance.objects.filter(pk=instance.pk).update(log_offset=offset)
        return 0
    text = chunk.decode(errors="replace")
    logs.append(stream(instance.pk), text, secrets=[instance.secret])
    instance.log_offset = offset + len(chunk)
    DeploymentInstance.objects.filter(pk=instance.pk).update(log_offset=instance.log_offset)
    return len(text)


def start_at(instance: DeploymentInstance, path) -> None:
    """A server is about to start on this node: what the file already holds (an earlier run here,
    shipped then, or another instance's leftover) is not shipped again."""
    instance.log_offset = local_size(path)
    DeploymentInstance.objects.filter(pk=instance.pk).update(log_offset=instance.log_offset)


def tail(instance_pk: int, chars: int = 2000) -> str:
    return logs.read(stream(instance_pk), -chars).text


def forget(sender=None, instance: DeploymentInstance | None = None, **kwargs) -> None:
    """post_delete of a DeploymentInstance (also when its deployment or workspace goes)."""
    if instance is not None:
        logs.delete(_prefix(instance.pk))


__all__ = ["forget", "local_size", "ship", "start_at", "stream", "tail"]
