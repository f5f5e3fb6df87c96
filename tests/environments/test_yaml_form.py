"""A failed "Create from YAML" says why beside the YAML box and leaves the main form as it was."""

from django.core.files.uploadedfile import SimpleUploadedFile


def test_a_bad_yaml_file_leaves_the_main_environment_form_untouched(client, workspace, owner):
    client.force_login(owner)
    response = client.post(
        f"/w/{workspace.name}/environments/new/", {"spec_file": SimpleUploadedFile("env.yml", b"name: y\nimgae: x\n")}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert not form.is_bound and not form.errors
    body = response.content.decode()
    assert "This field is required" not in body and "unknown key" in body
