"""An instance's server can write its own folder: a symlink it plants in place of `server.log`
must not make Studio show (Logs tab, failure detail) or append to another file of the host."""

from __future__ import annotations

from endpoints import instance_logs, instances, services
from endpoints.models import DeploymentInstance, InstanceStatus
from endpoints.runtimes import open_log

W = "/w/{ws}/endpoints/"


def test_a_log_replaced_by_a_symlink_shows_nothing_of_its_target(client, workspace, owner, light, tmp_path):
    endpoint = services.do_create_endpoint(workspace, {"name": "linked-ep"}, actor=owner)
    blue = services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    instance = DeploymentInstance.objects.create(deployment=blue)
    secret = tmp_path / "host-secret"
    secret.write_text("the host's secret\n")
    path = instances.log_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(secret)
    assert instance_logs.ship(instance, path) == 0  # the node's keeper ships nothing through it

    client.force_login(owner)
    log = W.format(ws=workspace.name) + "linked-ep/deployments/blue/log/"
    tail = client.get(log, {"file": instance.pk, "offset": -10_000, "lines": 1})
    assert tail.status_code == 200 and tail.json()["text"] == "" and tail.json()["size"] == 0
    assert client.get(log + "download/", {"file": instance.pk}).status_code == 404

    instances._fail(instance, "The server process ended; starting it again.")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.FAILED and "secret" not in instance.detail

    # The process runtime appends the next start's output to server.log: never through the link.
    try:
        open_log(path, "ab")
    except OSError:
        pass
    else:
        raise AssertionError("opened a symlinked log for appending")
    assert secret.read_text() == "the host's secret\n"


def test_a_log_replaced_by_a_fifo_does_not_hang_the_nodes_keeper(tmp_path):
    """A server that swaps `server.log` for a named pipe must not block the keeper (which ships
    and restarts every workspace's instances on its node) in open(): it ships nothing, at once."""
    import os
    import threading
    from types import SimpleNamespace

    path = tmp_path / "server.log"
    os.mkfifo(path)
    outcome: dict[str, object] = {}

    def keeper_round():
        outcome["shipped"] = instance_logs.ship(SimpleNamespace(pk=0, log_offset=0, secret="s"), path)
        try:
            open_log(path, "ab")
        except OSError as exc:
            outcome["append"] = exc
        else:
            outcome["append"] = "opened"

    worker = threading.Thread(target=keeper_round, daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():  # unblock the thread (open the pipe's other end), then fail
        for flags in (os.O_WRONLY | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
            try:
                os.close(os.open(path, flags))
            except OSError:
                pass
        raise AssertionError("the keeper blocked opening a FIFO planted as server.log")
    assert outcome["shipped"] == 0
    assert isinstance(outcome["append"], OSError)
    assert instance_logs.local_size(path) == 0
