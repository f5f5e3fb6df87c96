"""The registry domain through its services: versions from every kind of source, lineage, the
MLmodel metadata, references, aliases, stages, archive/restore/delete and bad input."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from datastores.services import get_datastore
from datastores.storage import store_for
from registry import services
from registry.models import ModelUsage, ModelVersion
from studio.errors import Conflict
from studio.models import ActivityEvent
from tests.registry.conftest import SIGNATURE_INPUTS, write_mlflow_model


def _artifact_files(version):
    return sorted(e.path for e in services.list_files(version))


def test_a_job_output_becomes_an_mlflow_model_with_lineage_and_metadata(workspace, owner, trained_job):
    uri = f"azureml://jobs/{trained_job.name}/outputs/artifacts/paths/outputs/model/"
    version = services.do_create_model_version(workspace, actor=owner, name="iris-clf", path=uri, tags={"team": "a"})

    assert (version.version, version.type) == ("1", ModelVersion.Type.MLFLOW)
    assert version.job == trained_job and version.job_name == trained_job.name
    assert version.source == uri
    assert set(version.mlmodel["flavors"]) == {"python_function", "sklearn"}
    assert [c["name"] for c in version.mlmodel["signature"]["inputs"]] == [c["name"] for c in SIGNATURE_INPUTS]
    assert version.mlmodel["signature"]["outputs"][0]["type"] == "tensor(int64, [-1])"
    assert version.mlmodel["input_example"]["artifact_path"] == "input_example.json"
    assert version.mlmodel["run_id"] == trained_job.name
    assert _artifact_files(version) == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.pkl",
        "python_env.yaml",
        "requirements.txt",
    ]
    assert version.file_count == 6 and version.size_bytes > 0
    location = services.files_location(version)
    assert location.store.label == "workspaceartifactstore"
    assert location.fs.cat_file(location.full_path + "/model.pkl") == b"\x80\x04pickled-model-bytes"
    assert ModelUsage.objects.filter(version=version, job_name=trained_job.name, direction="output").exists()
    assert ActivityEvent.objects.filter(workspace=workspace, verb="model.created", target="iris-clf:1").exists()


def test_runs_uri_and_a_file_named_mlmodel_give_the_next_versions(workspace, owner, trained_job):
    first = services.do_create_model_version(
        workspace, actor=owner, name="m", path=f"runs:/{trained_job.name}/outputs/model"
    )
    second = services.do_create_model_version(
        workspace, actor=owner, name="m", path=f"runs:/{trained_job.name}/outputs/model/MLmodel"
    )
    assert (first.version, second.version) == ("1", "2")
    assert _artifact_files(first) == _artifact_files(second)
    # Different folders: deleting one version never touches the other's files.
    assert first.storage_path != second.storage_path


def test_a_datastore_folder_and_a_single_file_become_custom_models(workspace, owner, tmp_path):
    blob = store_for(get_datastore(workspace, "workspaceblobstore"))
    blob.write_stream("exports/net/weights.bin", io.BytesIO(b"w" * 100))
    blob.write_stream("exports/net/config.json", io.BytesIO(b"{}"))

    folder = services.do_create_model_version(
        workspace, actor=owner, name="net", path="azureml://datastores/workspaceblobstore/paths/exports/net/"
    )
    single = services.do_create_model_version(
        workspace, actor=owner, name="net", path="azureml://datastores/workspaceblobstore/paths/exports/net/weights.bin"
    )
    assert folder.type == single.type == ModelVersion.Type.CUSTOM
    assert _artifact_files(folder) == ["config.json", "weights.bin"]
    assert _artifact_files(single) == ["weights.bin"] and single.size_bytes == 100
    assert folder.job is None and folder.mlmodel == {}


@pytest.mark.parametrize(
    "path, message",
    [
        ("azureml://datastores/workspaceblobstore/paths/nothing/here/", "does not exist"),
        ("azureml://datastores/nostore/paths/x", "no datastore named 'nostore'"),
        ("azureml://jobs/no-such-job/outputs/artifacts/paths/outputs/model", "no job (run) 'no-such-job'"),
        ("runs:/no-such-run/model", "no job (run) 'no-such-run'"),
        ("/home/me/model", "is not a model path Studio knows"),
        ("azureml://datastores/workspaceblobstore/paths/../../etc/passwd", "'..' is not allowed"),
        ("", "Give the model's path"),
    ],
)
def test_a_path_that_does_not_exist_is_a_clear_error(workspace, owner, path, message):
    with pytest.raises(ValidationError) as caught:
        services.do_create_model_version(workspace, actor=owner, name="m", path=path)
    assert message in " ".join(caught.value.message_dict["path"])
    assert not ModelVersion.objects.exists()


def test_a_missing_job_output_folder_names_the_uri(workspace, owner, trained_job):
    with pytest.raises(ValidationError) as caught:
        services.do_create_model_version(
            workspace, actor=owner, name="m", path=f"runs:/{trained_job.name}/outputs/nope"
        )
    assert f"azureml://jobs/{trained_job.name}/outputs/artifacts/paths/outputs/nope does not exist" in str(caught.value)


def test_a_version_clash_is_a_conflict_and_leaves_no_files(workspace, owner, trained_job):
    uri = f"runs:/{trained_job.name}/outputs/model"
    services.do_create_model_version(workspace, actor=owner, name="m", path=uri, version="3")
    with pytest.raises(Conflict) as caught:
        services.do_create_model_version(workspace, actor=owner, name="m", path=uri, version=3)
    assert "m:3 already exists" in str(caught.value)
    assert services.do_create_model_version(workspace, actor=owner, name="m", path=uri).version == "4"
    artifact_store = store_for(get_datastore(workspace, "workspaceartifactstore"))
    assert len(artifact_store.ls("registered_models/m")) == 2


def test_an_mlflow_model_needs_its_mlmodel_file_and_nothing_is_left_behind(workspace, owner, trained_job):
    with pytest.raises(ValidationError) as caught:
        services.do_create_model_version(
            workspace, actor=owner, name="m", type="mlflow_model", path=f"runs:/{trained_job.name}/outputs/notes.txt"
        )
    assert "needs an MLmodel file" in str(caught.value)
    artifact_store = store_for(get_datastore(workspace, "workspaceartifactstore"))
    assert not artifact_store.exists("registered_models/m") or artifact_store.ls("registered_models/m") == []


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"type": "onnx_model"}, "type"),
        ({"name": "bad name"}, "name"),
        ({"name": "new"}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"description": "nul\x00here"}, "description"),
        ({"tags": {"k": "v\x00"}}, "tags"),
        ({"tags": ["not", "a", "mapping"]}, "tags"),
        ({"properties": "x"}, "properties"),
        ({"version": "latest"}, "version"),
        ({"version": "../1"}, "version"),
    ],
)
def test_bad_input_names_its_field(workspace, owner, trained_job, kwargs, field):
    data = {"name": "m", "path": f"runs:/{trained_job.name}/outputs/model", **kwargs}
    with pytest.raises(ValidationError) as caught:
        services.do_create_model_version(workspace, actor=owner, **data)
    assert field in caught.value.message_dict


def test_references_resolve_versions_latest_aliases_and_stages(workspace, owner, trained_job):
    uri = f"runs:/{trained_job.name}/outputs/model"
    v1, v2, v3 = (services.do_create_model_version(workspace, actor=owner, name="m", path=uri) for _ in range(3))
    services.do_archive_model_version(v3, actor=owner)
    services.do_set_alias(v1, "champion", actor=owner)
    services.do_set_stage(v2, "production", actor=owner)

    def ref(text):
        return services.resolve(workspace, text).version

    assert ref("m:3") == ref("azureml:m:3") == ref("models:/m/3") == "3"  # archived, but named exactly
    assert ref("m@latest") == ref("m") == ref("models:/m/latest") == "2"  # @latest skips archived
    assert ref("m@champion") == ref("azureml:m@champion") == ref("models:/m@champion") == "1"
    assert ref("models:/m/Production") == "2"
    for missing in ("m:9", "m@nobody", "other@latest", "models:/m/Staging"):
        with pytest.raises(ValidationError):
            services.resolve(workspace, missing)
    with pytest.raises(ValidationError) as caught:
        services.resolve(workspace, "m:1:2")
    assert "is not a model reference" in str(caught.value)


def test_an_alias_is_unique_per_model_and_moves(workspace, owner, trained_job):
    uri = f"runs:/{trained_job.name}/outputs/model"
    v1 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    v2 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    other = services.do_create_model_version(workspace, actor=owner, name="other", path=uri)
    services.do_set_alias(v1, "champion", actor=owner)
    services.do_set_alias(other, "champion", actor=owner)  # another model: its own alias
    services.do_set_alias(v2, "champion", actor=owner)
    assert list(v1.model.aliases.values_list("alias", "version__version")) == [("champion", "2")]
    assert services.resolve(workspace, "other@champion") == other
    for reserved in ("latest", "v3", "bad alias"):
        with pytest.raises(ValidationError):
            services.do_set_alias(v1, reserved, actor=owner)
    services.do_delete_alias(v1.model, "champion", actor=owner)
    with pytest.raises(ValidationError):
        services.do_delete_alias(v1.model, "champion", actor=owner)


def test_stage_transitions_can_archive_the_previous_production_version(workspace, owner, trained_job):
    uri = f"runs:/{trained_job.name}/outputs/model"
    v1 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    v2 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    services.do_set_stage(v1, "Production", actor=owner)
    services.do_set_stage(v2, "production", actor=owner, archive_existing=True)
    v1.refresh_from_db()
    assert (v1.stage, v2.stage) == ("Archived", "Production")
    with pytest.raises(ValidationError):
        services.do_set_stage(v1, "Shipped", actor=owner)


def test_description_and_tags_change_but_nothing_else(workspace, owner, trained_job):
    version = services.do_create_model_version(
        workspace, actor=owner, name="m", path=f"runs:/{trained_job.name}/outputs/model", tags={"a": "1", "b": "2"}
    )
    services.do_update_model_version(version, actor=owner, description="better", set_tags={"c": "3"}, delete_tags=["a"])
    version.refresh_from_db()
    assert (version.description, version.tags) == ("better", {"b": "2", "c": "3"})
    services.do_update_model(version.model, actor=owner, description="the model", tags={"x": "y"})
    version.model.refresh_from_db()
    assert (version.model.description, version.model.tags) == ("the model", {"x": "y"})
    services.do_rename_model(version.model, "m2", actor=owner)
    assert services.resolve(workspace, "m2:1") == version
    assert _artifact_files(version)  # files stay reachable after a rename


def test_archive_restore_and_delete(workspace, owner, trained_job, django_capture_on_commit_callbacks):
    uri = f"runs:/{trained_job.name}/outputs/model"
    v1 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    v2 = services.do_create_model_version(workspace, actor=owner, name="m", path=uri)
    services.do_archive_model_version(v2, actor=owner)
    assert services.get_version(workspace, "m", "latest") == v1
    assert [v.version for v in services.latest_versions(ModelVersion.objects.filter(workspace=workspace))] == ["1"]
    services.do_restore_model_version(v2, actor=owner)
    assert services.get_version(workspace, "m", "latest") == v2

    location = services.files_location(v2)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_model_version(v2, actor=owner)
    assert not location.store.exists(location.path)
    assert _artifact_files(v1)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_model(v1.model, actor=owner)
    assert not ModelVersion.objects.exists()


def _sink_with(workspace, files: dict[str, bytes]):
    sink = services.upload_sink_for(workspace)
    for rel, content in files.items():
        writer = sink.open(rel)
        writer.write(content)
        sink.finish()
    return sink


def test_an_uploaded_folder_drops_its_top_folder(workspace, owner, tmp_path):
    model_dir = write_mlflow_model(tmp_path / "model")
    sink = _sink_with(workspace, {f"model/{p.name}": p.read_bytes() for p in model_dir.iterdir()})
    version = services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="up")
    assert version.type == "mlflow_model" and version.source == "local upload"
    assert "MLmodel" in _artifact_files(version)
    assert not sink.store.exists(sink.folder)


def test_an_uploaded_zip_is_unpacked_and_traversal_is_refused(workspace, owner):
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("weights/a.bin", b"a")
        archive.writestr("config.json", b"{}")
    version = services.do_create_model_version_from_upload(
        workspace, _sink_with(workspace, {"model.zip": good.getvalue()}), actor=owner, name="zipped"
    )
    assert _artifact_files(version) == ["config.json", "weights/a.bin"]

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../escape.txt", b"x")
    sink = _sink_with(workspace, {"evil.zip": evil.getvalue()})
    with pytest.raises(ValidationError) as caught:
        services.do_create_model_version_from_upload(workspace, sink, actor=owner, name="evil")
    assert "'..' is not allowed" in str(caught.value)
    assert not sink.store.exists(sink.folder)

    with pytest.raises(ValidationError):
        services.do_create_model_version_from_upload(
            workspace, _sink_with(workspace, {"broken.zip": b"not a zip"}), actor=owner, name="broken"
        )


def test_model_yaml_errors_name_the_line():
    data = services.parse_model_yaml("name: m\nversion: 2\npath: runs:/j/model\ntype: mlflow_model\n")
    assert data == {"name": "m", "version": "2", "path": "runs:/j/model", "type": "mlflow_model"}
    with pytest.raises(ValidationError) as caught:
        services.parse_model_yaml("name: m\nflavour: x\n")
    assert "'flavour' (line 2)" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        services.parse_model_yaml("name: m\n  bad: [\n")
    assert "line" in str(caught.value)


def test_a_model_can_exist_before_its_first_version(workspace, owner, trained_job):
    model = services.do_create_model(workspace, actor=owner, name="m", description="empty", tags={"a": "b"})
    with pytest.raises(Conflict):
        services.do_create_model(workspace, actor=owner, name="m")
    with pytest.raises(ValidationError):
        services.do_create_model(workspace, actor=owner, name="bad name")
    version = services.do_create_model_version(
        workspace, actor=owner, name="m", path=f"runs:/{trained_job.name}/outputs/model"
    )
    assert version.model == model and version.version == "1"
    with pytest.raises(ValidationError):
        services.resolve(workspace, "nothing-here@latest")
