"""The jobs contract: resolve job inputs, materialise them into a job directory, upload job
outputs to a datastore and register them as data asset versions, and record lineage — on
every kind of storage."""

from __future__ import annotations

import io
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from datastores import services
from datastores.materialize import (
    ResolvedInput,
    materialize_input,
    record_usage,
    register_output_asset,
    resolve_input,
    upload_output,
)
from datastores.models import Datastore, DataUsage
from datastores.storage import store_for

CSV = b"x,y\n1,2\n3,4\n"


@pytest.fixture(params=["builtin", "local", "azure", "azure_sas", "s3"])
def datastore(request, workspace, owner):
    """A datastore of each kind holding data/a.csv, data/sub/b.csv and data/MLTable."""
    kind = request.param
    if kind == "builtin":
        ds = Datastore.objects.get(workspace=workspace, name="workspaceblobstore")
    elif kind == "local":
        folder = request.getfixturevalue("local_folder")
        ds = services.do_register_datastore(workspace, actor=owner, name="nfs", type="local", path=str(folder))
    elif kind in ("azure", "azure_sas"):
        server = request.getfixturevalue("azurite_server")
        container = server.container()
        ds = services.do_register_datastore(
            workspace,
            actor=owner,
            name="blob",
            type="azure_blob",
            account_name=server.account,
            container_name=container,
            endpoint=server.endpoint,
            protocol="http",
            credentials={"sas_token": server.sas(container)} if kind == "azure_sas" else {"account_key": server.key},
        )
    else:
        server = request.getfixturevalue("s3_server")
        ds = services.do_register_datastore(
            workspace,
            actor=owner,
            name="s3data",
            type="s3",
            bucket=server.bucket(),
            endpoint_url=server.url,
            credentials={"access_key_id": server.key, "secret_access_key": server.secret},
        )
    store = store_for(ds)
    store.write_stream("data/a.csv", io.BytesIO(CSV))
    store.write_stream("data/sub/b.csv", io.BytesIO(CSV * 2))
    store.write_stream("data/MLTable", io.BytesIO(b"paths:\n  - pattern: ./**/*.csv\n"))
    return ds


def test_inputs_resolve_materialise_and_outputs_come_back_as_assets(datastore, workspace, owner, tmp_path):
    name = datastore.name
    version = services.do_create_data_version(
        workspace, actor=owner, name="train", type="uri_folder", path=f"azureml://datastores/{name}/paths/data"
    )
    # An asset reference, pinned to a version at submission.
    folder = resolve_input(
        workspace, {"type": "uri_folder", "path": "azureml:train@latest", "mode": "ro_mount"}, name="training"
    )
    assert folder.asset == "train:1" and folder.asset_version_id == version.pk
    assert (folder.datastore, folder.path) == (name, "data")
    # Plain data survives the trip to the worker.
    folder = ResolvedInput.from_dict(folder.as_dict())
    local = materialize_input(folder, tmp_path / "job" / "inputs" / "training")
    assert local == tmp_path / "job" / "inputs" / "training"
    assert (local / "a.csv").read_bytes() == CSV
    assert (local / "sub" / "b.csv").read_bytes() == CSV * 2

    one = resolve_input(
        workspace,
        {"type": "uri_file", "path": f"azureml://datastores/{name}/paths/data/sub/b.csv", "mode": "download"},
        name="one",
    )
    assert one.asset_version_id is None
    got = materialize_input(one.as_dict(), tmp_path / "job" / "inputs" / "one")
    assert got.name == "b.csv" and got.read_bytes() == CSV * 2

    table = resolve_input(
        workspace, {"type": "mltable", "path": f"azureml://datastores/{name}/paths/data/"}, name="table"
    )
    assert (materialize_input(table, tmp_path / "t") / "MLTable").exists()

    record_usage(version, "job-123")
    record_usage(version, "job-123")
    assert list(version.usages.values_list("job_name", "direction")) == [("job-123", "input")]

    outputs = tmp_path / "job" / "outputs" / "model"
    (outputs / "nested").mkdir(parents=True)
    (outputs / "model.pkl").write_bytes(b"weights")
    (outputs / "nested" / "metrics.json").write_text("{}")
    os.symlink("/etc/passwd", outputs / "leak")
    uri = upload_output(workspace, outputs, job_name="job-123", output_name="model", spec={"type": "uri_folder"})
    assert uri == "azureml://datastores/workspaceblobstore/paths/azureml/job-123/model/"
    blob = store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore"))
    assert sorted(e.path for e in blob.walk_files("azureml/job-123/model")) == [
        "azureml/job-123/model/model.pkl",
        "azureml/job-123/model/nested/metrics.json",
    ], "symlinks are not followed out of the job"

    elsewhere = upload_output(
        workspace,
        outputs,
        job_name="job-123",
        output_name="model",
        spec={"type": "uri_folder", "path": f"azureml://datastores/{name}/paths/results/run1/"},
    )
    assert elsewhere == f"azureml://datastores/{name}/paths/results/run1/"
    assert store_for(datastore).isfile("results/run1/model.pkl")

    registered = register_output_asset(
        workspace, elsewhere, spec={"type": "uri_folder", "name": "model-out"}, job_name="job-123", output_name="model"
    )
    assert registered.reference == "model-out:1"
    assert registered.usages.get().direction == DataUsage.Direction.OUTPUT
    assert register_output_asset(workspace, uri, spec={"type": "uri_folder"}, job_name="j", output_name="o") is None


def test_a_uri_file_output_is_one_file(workspace, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "score.txt").write_text("0.9")
    uri = upload_output(workspace, out, job_name="j1", output_name="score", spec={"type": "uri_file"})
    assert uri == "azureml://datastores/workspaceblobstore/paths/azureml/j1/score/score.txt"
    (out / "extra.txt").write_text("x")
    with pytest.raises(ValidationError, match="must be one file"):
        upload_output(workspace, out, job_name="j1", output_name="score", spec={"type": "uri_file"})


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"type": "uri_folder", "path": "azureml:nope:1"}, "no data asset nope:1"),
        ({"type": "uri_folder", "path": "azureml:train:1", "mode": "rw_mount"}, "mode must be one of"),
        ({"type": "table", "path": "azureml:train:1"}, "type must be one of"),
        ({"type": "uri_file", "path": "azureml:train:1"}, "is a uri_folder asset"),
        ({"type": "uri_folder", "path": "azureml://datastores/workspaceblobstore/paths/../x"}, "'..' is not allowed"),
        ({"type": "uri_folder", "path": "azureml://datastores/ghost/paths/x"}, "no datastore named 'ghost'"),
        ({"type": "uri_folder", "path": "./local/folder"}, "is not a data reference"),
        ({"type": "uri_folder", "path": ""}, "Give a path"),
        ({"type": "uri_folder", "path": "https://example.com/folder/"}, "only be a uri_file"),
    ],
)
def test_bad_inputs_are_named_in_the_error(spec, message, workspace, owner):
    store_for(Datastore.objects.get(workspace=workspace, name="workspaceblobstore")).write_stream(
        "d/a.csv", io.BytesIO(CSV)
    )
    services.do_create_data_version(
        workspace, actor=owner, name="train", type="uri_folder", path="azureml://datastores/workspaceblobstore/paths/d"
    )
    with pytest.raises(ValidationError) as caught:
        resolve_input(workspace, spec, name="training")
    assert list(caught.value.message_dict) == ["inputs.training"]
    assert message in " ".join(caught.value.messages)


def test_an_https_file_input_is_downloaded(workspace, tmp_path, settings):
    settings.STUDIO_DATA_ALLOW_HTTP = True  # a local server; production URLs are https
    served = tmp_path / "www"
    served.mkdir()
    (served / "data.csv").write_bytes(CSV)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.csv"
        resolved = resolve_input(workspace, {"type": "uri_file", "path": url}, name="web")
        got = materialize_input(resolved, tmp_path / "in")
        assert got.read_bytes() == CSV and got.name == "data.csv"
    finally:
        server.shutdown()
