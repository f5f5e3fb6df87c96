"""Built-in datastores, the default, editing, replacing credentials and removing datastores."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from datastores import services
from datastores.models import BUILTIN_DATASTORES, Datastore
from datastores.storage import store_for
from studio.errors import Conflict
from tests.conftest import token_client
from tests.factories import make_workspace


def test_every_new_workspace_gets_the_four_builtin_datastores(workspace, storage_dirs):
    names = list(Datastore.objects.filter(workspace=workspace, builtin=True).values_list("name", flat=True))
    assert sorted(names) == sorted(BUILTIN_DATASTORES)
    default = Datastore.objects.get(workspace=workspace, is_default=True)
    assert default.name == "workspaceblobstore"
    store = store_for(default)
    store.write_stream("hello.txt", io.BytesIO(b"hi"))
    assert (
        storage_dirs / "builtin" / f"ws-main-{workspace.pk}" / "workspaceblobstore" / "hello.txt"
    ).read_bytes() == b"hi"


def test_the_data_migration_fills_in_existing_workspaces(workspace, owner):
    from importlib import import_module

    from django.apps import apps

    Datastore.objects.filter(workspace=workspace).delete()
    import_module("datastores.migrations.0002_builtin_datastores").create_builtins(apps, None)
    assert Datastore.objects.filter(workspace=workspace, builtin=True).count() == 4
    assert Datastore.objects.get(workspace=workspace, is_default=True).name == "workspaceblobstore"


@pytest.mark.parametrize("backend", ["s3", "azure_blob"])
def test_builtin_datastores_can_live_in_an_object_store(backend, request, settings, owner):
    """Production keeps built-in datastores in an object store (STUDIO_BUILTIN_STORE)."""
    if backend == "s3":
        server = request.getfixturevalue("s3_server")
        bucket = server.bucket()
        settings.STUDIO_BUILTIN_STORE = f"s3://{bucket}/studio"
        settings.STUDIO_BUILTIN_STORE_ENDPOINT = server.url
        settings.STUDIO_BUILTIN_STORE_KEY = server.key
        settings.STUDIO_BUILTIN_STORE_SECRET = server.secret
        secret = server.secret

        def read(key):
            return server.client().get_object(Bucket=bucket, Key=key)["Body"].read()

        def count(prefix):
            return server.client().list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0)
    else:
        server = request.getfixturevalue("azurite_server")
        bucket = server.container()
        settings.STUDIO_BUILTIN_STORE = f"az://{bucket}/studio"
        settings.STUDIO_BUILTIN_STORE_ENDPOINT = server.endpoint
        settings.STUDIO_BUILTIN_STORE_ACCOUNT = server.account
        settings.STUDIO_BUILTIN_STORE_KEY = server.key
        secret = server.key
        container = server.service().get_container_client(bucket)

        def read(key):
            return container.download_blob(key).readall()

        def count(prefix):
            return len(list(container.list_blobs(name_starts_with=prefix)))

    ws = make_workspace(owner, "ws-cloud")
    blob = Datastore.objects.get(workspace=ws, name="workspaceblobstore")
    assert blob.effective_type == backend
    store_for(blob).write_stream("a/b.txt", io.BytesIO(b"in the bucket"))
    prefix = f"studio/ws-cloud-{ws.pk}/workspaceblobstore"
    assert read(f"{prefix}/a/b.txt") == b"in the bucket"
    api = token_client(owner)
    shown = api.get(f"/api/v1/workspaces/{ws.name}/datastores/workspaceblobstore/").json()
    assert shown["type"] == backend
    assert secret not in str(shown)
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploaded = api.post(
        f"/api/v1/workspaces/{ws.name}/data/cloudy/versions/",
        {
            "type": "uri_folder",
            "file": [SimpleUploadedFile("c.csv", b"a\n1\n"), SimpleUploadedFile("d.csv", b"b\n2\n")],
        },
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    assert read(f"{prefix}/{uploaded.json()['datastore_path']}/c.csv") == b"a\n1\n"
    assert count(f"{prefix}/LocalUpload/_staging") == 0


def test_the_default_moves_and_removal_rules_hold(workspace, owner, local_folder):
    nfs = services.do_register_datastore(workspace, actor=owner, name="nfs", type="local", path=str(local_folder))
    services.do_set_default_datastore(nfs, actor=owner)
    assert list(Datastore.objects.filter(workspace=workspace, is_default=True).values_list("name", flat=True)) == [
        "nfs"
    ]
    with pytest.raises(Conflict, match="another datastore the default"):
        services.do_delete_datastore(nfs, actor=owner)
    blob = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    with pytest.raises(Conflict, match="Built-in"):
        services.do_delete_datastore(blob, actor=owner)
    services.do_set_default_datastore(blob, actor=owner)
    (local_folder / "a.csv").write_text("x\n1\n")
    services.do_create_data_version(
        workspace, actor=owner, name="d", type="uri_file", path="azureml://datastores/nfs/paths/a.csv"
    )
    with pytest.raises(Conflict, match="d:1"):
        services.do_delete_datastore(Datastore.objects.get(pk=nfs.pk), actor=owner)
    other = services.do_register_datastore(workspace, actor=owner, name="other", type="local", path=str(local_folder))
    services.do_delete_datastore(other, actor=owner)
    assert (local_folder / "a.csv").exists(), "removing a datastore leaves its data alone"


def test_names_are_checked(workspace, owner, local_folder):
    with pytest.raises(Conflict):
        services.do_register_datastore(
            workspace, actor=owner, name="workspaceblobstore", type="local", path=str(local_folder)
        )
    with pytest.raises(ValidationError):
        services.do_register_datastore(workspace, actor=owner, name="has-dash", type="local", path=str(local_folder))
    services.do_register_datastore(workspace, actor=owner, name="twice", type="local", path=str(local_folder))
    with pytest.raises(Conflict):
        services.do_register_datastore(workspace, actor=owner, name="TWICE", type="local", path=str(local_folder))


def test_every_problem_of_a_new_datastore_comes_back_at_once(workspace, owner):
    with pytest.raises(ValidationError) as caught:
        services.do_register_datastore(
            workspace,
            actor=owner,
            name="has-dash",
            type="azure_blob",
            account_name="Not_Valid",
            container_name="",
            credentials={},
        )
    errors = caught.value.message_dict
    assert set(errors) == {"name", "account_name", "container_name", "credentials"}, errors
    assert not isinstance(caught.value, Conflict), "a 409 only when the clash is the only problem"


def test_a_taken_name_and_an_unlistable_folder_are_reported_together(workspace, owner, local_folder):
    services.do_register_datastore(workspace, actor=owner, name="taken", type="local", path=str(local_folder))
    with pytest.raises(ValidationError) as caught:
        services.do_register_datastore(
            workspace, actor=owner, name="taken", type="local", path=str(local_folder / "missing")
        )
    errors = caught.value.message_dict
    assert set(errors) == {"name", "path"}, errors
    assert "already exists" in errors["name"][0] and "is not a folder" in errors["path"][0]


def test_credentials_are_replaced_never_read_back(azurite_server, workspace, owner):
    container = azurite_server.container()
    api = token_client(owner)
    base = f"/api/v1/workspaces/{workspace.name}/datastores/"
    body = {
        "name": "blob",
        "type": "azure_blob",
        "account_name": azurite_server.account,
        "container_name": container,
        "endpoint": azurite_server.endpoint,
        "protocol": "http",
        "credentials": {"sas_token": azurite_server.sas(container)},
    }
    assert api.post(base, body, format="json").json()["credentials_type"] == "sas"
    replaced = api.patch(
        base + "blob/", {"credentials": {"account_key": azurite_server.key}, "description": "key now"}, format="json"
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["credentials_type"] == "account_key"
    assert Datastore.objects.get(name="blob").get_credentials() == {"account_key": azurite_server.key}
    kept = api.patch(base + "blob/", {"description": "same creds"}, format="json")
    assert kept.json()["credentials_type"] == "account_key"
    rename = api.patch(base + "blob/", {"name": "other"}, format="json")
    assert rename.status_code == 400
    both = api.patch(
        base + "blob/", {"credentials": {"account_key": azurite_server.key, "sas_token": "x"}}, format="json"
    )
    assert both.status_code == 400 and "exactly one" in both.json()["detail"]
    builtin = api.patch(base + "workspaceblobstore/", {"bucket": "x"}, format="json")
    assert builtin.status_code in (400, 409)


def test_a_datastore_yaml_registers_it(azurite_server, workspace, owner):
    container = azurite_server.container()
    yaml_text = f"""$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json
name: blob_example
type: azure_blob
description: Datastore pointing to a blob container.
account_name: {azurite_server.account}
container_name: {container}
endpoint: {azurite_server.endpoint}
protocol: http
credentials:
  account_key: {azurite_server.key}
"""
    api = token_client(owner)
    response = api.post(f"/api/v1/workspaces/{workspace.name}/datastores/", yaml_text, content_type="application/yaml")
    assert response.status_code == 201, response.content
    assert response.json()["container_name"] == container
    assert azurite_server.key not in response.content.decode()
