"""A job form that comes back with errors keeps the code the user picked (a browser cannot refill a
file input), and says what to fix at the top."""

from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import CodeSnapshot, Job
from tests.jobs.conftest import make_zip


def test_an_error_elsewhere_keeps_the_picked_folder(client, no_dispatch, workspace, owner, plain_env):
    client.force_login(owner)
    fields = {
        "code_source": "folder",
        "code_folder": [SimpleUploadedFile("train.py", b"print(1)")],
        "code_paths": ["proj/train.py"],
        "command": "",  # the mistake
        "environment": "plain",
        "environment_version": "1",
        "compute": "local",
        "experiment": "Default",
        "display_name": "Kept",
    }
    response = client.post(f"/w/{workspace.name}/new/job/", fields)
    assert response.status_code == 200 and response.context["form"].errors
    snapshot = CodeSnapshot.objects.get(workspace=workspace)
    body = response.content.decode()
    assert response.context["form"]["code_source"].value() == "reuse"
    assert response.context["form"]["code_id"].value() == snapshot.hash
    assert "is kept: submitting again uses it" in body and "data-error-summary" in body
    assert 'href="#id_command"' in body  # the summary links to the field
    again = client.post(
        f"/w/{workspace.name}/new/job/",
        {k: v for k, v in fields.items() if not k.startswith("code_")}
        | {"code_source": "reuse", "code_id": snapshot.hash, "command": "python train.py"},
    )
    assert again.status_code == 302
    assert Job.objects.get(display_name="Kept").code_id == snapshot.pk


def test_a_zip_is_kept_too_and_a_broken_zip_says_so(client, no_dispatch, workspace, owner, plain_env):
    client.force_login(owner)
    base = {"environment": "plain", "environment_version": "1", "compute": "local", "experiment": "Default"}
    kept = client.post(
        f"/w/{workspace.name}/new/job/",
        base | {"code_source": "zip", "code_zip": make_zip({"a.py": "print(2)"}), "command": "", "cpu": "-3"},
    )
    assert kept.context["form"]["code_source"].value() == "reuse"
    broken = client.post(
        f"/w/{workspace.name}/new/job/",
        base | {"code_source": "zip", "code_zip": SimpleUploadedFile("c.zip", b"not a zip"), "command": "x"},
    )
    assert broken.status_code == 400 and broken.context["form"]["code_source"].value() == "zip"
    assert broken.context["form"].errors
