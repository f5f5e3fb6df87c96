"""Give every existing workspace its four built-in datastores (new ones get them on creation)."""

from django.db import migrations

BUILTIN = {
    "workspaceblobstore": "The workspace's default store: uploads, data assets and job outputs.",
    "workspacefilestore": "Shared files of the workspace.",
    "workspaceartifactstore": "Artifacts of jobs: code snapshots, logs and outputs.",
    "workspaceworkingdirectory": "Working files (notebooks, scripts) of the workspace's members.",
}


def create_builtins(apps, schema_editor):
    from datastores.storage import builtin_backend

    Workspace = apps.get_model("studio", "Workspace")
    Datastore = apps.get_model("datastores", "Datastore")
    backend = builtin_backend()
    for workspace in Workspace.objects.all():
        has_default = Datastore.objects.filter(workspace=workspace, is_default=True).exists()
        for name, description in BUILTIN.items():
            Datastore.objects.get_or_create(
                workspace=workspace,
                name=name,
                defaults={
                    "type": backend,
                    "builtin": True,
                    "is_default": name == "workspaceblobstore" and not has_default,
                    "description": description,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("datastores", "0001_initial")]

    operations = [migrations.RunPython(create_builtins, migrations.RunPython.noop)]
