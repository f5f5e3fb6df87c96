"""An instance's log reaches the page from any node: the node's keeper ships what is new in its
`server.log` into a stream in the database, and the Logs tab, the logs API and the failure detail
read the stream (so a node on another machine, whose folder the web never sees, shows the same)."""

from __future__ import annotations

import time

from endpoints import instance_logs, instances, services
from endpoints.models import DeploymentInstance, InstanceStatus
from studio import logs
from studio.models import LogChunk
from tests.conftest import token_client
from tests.endpoints.helpers import deploy_script, reconcile_here

API = "/api/v1/workspaces/{ws}/online-endpoints/"
W = "/w/{ws}/endpoints/"


def _row(workspace, owner, light, name="shipped-ep"):
    endpoint = services.do_create_endpoint(workspace, {"name": name}, actor=owner)
    blue = services.do_create_deployment(endpoint, {"name": "blue", **light}, actor=owner)
    instance = DeploymentInstance.objects.create(deployment=blue)
    path = instances.log_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    return endpoint, blue, instance, path


def test_shipping_appends_only_what_is_new_whole_characters_and_across_restarts(workspace, owner, light):
    _, _, instance, path = _row(workspace, owner, light)
    stream = instance_logs.stream(instance.pk)
    path.write_bytes(b"starting\n" + "é".encode()[:1])  # half of a character: held back
    assert instance_logs.ship(instance, path) == len("starting\n")
    with open(path, "ab") as f:
        f.write("é".encode()[1:] + b" ready\n")
    instance_logs.ship(instance, path)
    assert instance_logs.ship(instance, path) == 0  # nothing new: nothing appended twice
    assert logs.read_all(stream) == "starting\né ready\n"
    instance.refresh_from_db()
    assert instance.log_offset == path.stat().st_size  # remembered on the row, not in a process

    # A restart on this node appends to the file; the stream goes on where it was.
    instance_logs.start_at(instance, path)
    with open(path, "ab") as f:
        f.write(b"starting again\n")
    instance_logs.ship(instance, path)
    assert logs.read_all(stream) == "starting\né ready\nstarting again\n"

    # Started on another node, whose folder holds an old file: only the new start's lines ship.
    path.write_bytes(b"an old run on this node\n")
    instance_logs.start_at(instance, path)
    with open(path, "ab") as f:
        f.write(b"third start\n")
    instance_logs.ship(instance, path, final=True)
    assert logs.read_all(stream).endswith("starting again\nthird start\n")
    assert "old run" not in logs.read_all(stream)


def test_the_instance_secret_is_masked_and_the_stream_goes_with_the_row(workspace, owner, light):
    from studio import crypto
    from studio.services import do_delete_workspace

    endpoint, blue, instance, path = _row(workspace, owner, light)
    DeploymentInstance.objects.filter(pk=instance.pk).update(secret_encrypted=crypto.encrypt("s3cret-key-of-it"))
    instance.refresh_from_db()
    path.write_text("key is s3cret-key-of-it\n")
    instance_logs.ship(instance, path)
    assert logs.read_all(instance_logs.stream(instance.pk)) == "key is ***\n"

    other = DeploymentInstance.objects.create(deployment=blue)
    logs.append(instance_logs.stream(other.pk), "the other instance\n")
    instance.delete()  # an instance replaced by an update, or stopped
    assert not LogChunk.objects.filter(stream=instance_logs.stream(instance.pk)).exists()
    assert LogChunk.objects.filter(stream=instance_logs.stream(other.pk)).exists()
    do_delete_workspace(workspace, actor=owner, confirm=workspace.name)  # its deployments' instances too
    assert not LogChunk.objects.filter(stream__startswith="endpoint-instance/").exists()


def test_a_deleted_deployment_takes_its_instances_logs_along(workspace, owner, light):
    endpoint, blue, instance, path = _row(workspace, owner, light, "gone-ep")
    logs.append(instance_logs.stream(instance.pk), "served\n")
    services.do_delete_deployment(blue, actor=owner)
    assert not LogChunk.objects.filter(stream=instance_logs.stream(instance.pk)).exists()


def test_a_print_in_init_shows_through_the_api_without_the_instance_folder(
    workspace, owner, serve_env, sklearn_model, settings, tmp_path, client
):
    env_version, _ = serve_env
    script = (
        "def init():\n    print('init says hello from its node', flush=True)\n\n"
        "def run(raw):\n    return {'ok': True}\n"
    )
    deploy_script(workspace, owner, env_version, script, "printing-ep")
    api = token_client(owner)
    url = API.format(ws=workspace.name) + "printing-ep/deployments/blue/logs/"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            reconcile_here()
            row = DeploymentInstance.objects.get()
            if row.status == InstanceStatus.READY and "init says hello" in logs.read_all(instance_logs.stream(row.pk)):
                break
            time.sleep(0.5)
        # The web now looks at an empty data folder (as on another machine than the node's).
        settings.STUDIO_ENDPOINTS_DIR = tmp_path / "elsewhere"
        assert not instances.log_path(row).exists()
        content = api.get(url).json()["content"]
        assert "init says hello from its node" in content, content
        start = content.index("init says")
        rest = api.get(url, {"offset": start}).json()
        assert rest["content"].startswith("init says hello") and rest["offset"] == len(content)

        client.force_login(owner)
        page = W.format(ws=workspace.name) + "printing-ep/deployments/blue/log/"
        tail = client.get(page, {"file": row.pk, "offset": -10_000, "lines": 1}).json()
        assert "init says hello from its node" in tail["text"]
        download = client.get(page + "download/", {"file": row.pk})
        assert "init says hello" in b"".join(download.streaming_content).decode()
    finally:
        instances.stop_all()
