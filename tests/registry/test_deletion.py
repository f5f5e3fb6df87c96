"""Deleting a workspace takes its models, their versions and their files with it."""

from __future__ import annotations

import pytest

from registry import services
from registry.models import Model, ModelUsage, ModelVersion
from studio import services as studio_services
from studio.errors import Conflict


def test_a_workspace_with_models_asks_first_then_deletes_them_and_their_files(
    workspace, owner, trained_job, django_capture_on_commit_callbacks
):
    version = services.do_create_model_version(
        workspace, actor=owner, name="iris", path=f"runs:/{trained_job.name}/outputs/model"
    )
    services.do_set_alias(version, "champion", actor=owner)
    services.record_usage(version, "another-job", port="model")
    location = services.files_location(version)
    assert location.store.exists(location.path)

    with pytest.raises(Conflict) as caught:
        studio_services.do_delete_workspace(workspace, actor=owner)
    assert "1 model" in str(caught.value)

    with django_capture_on_commit_callbacks(execute=True):
        studio_services.do_delete_workspace(workspace, actor=owner, confirm=workspace.name)
    assert not Model.objects.exists() and not ModelVersion.objects.exists() and not ModelUsage.objects.exists()
    assert not location.store.exists(location.path)
