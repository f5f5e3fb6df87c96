"""Give every existing workspace its built-in `local` compute target (new workspaces get it from
compute.services.create_local_target, a WORKSPACE_CREATED_HOOKS entry)."""

from decimal import Decimal

from django.db import migrations


def add_local_targets(apps, schema_editor):
    Workspace = apps.get_model("studio", "Workspace")
    ComputeTarget = apps.get_model("compute", "ComputeTarget")
    have = set(ComputeTarget.objects.filter(name="local").values_list("workspace_id", flat=True))
    ComputeTarget.objects.bulk_create(
        [
            ComputeTarget(
                workspace_id=ws.pk,
                name="local",
                type="local",
                backend="venv",
                state="Running",
                size="",
                cpu_cores=Decimal(2),
                memory_mb=4096,
                gpus=0,
                description="Built in: processes on the worker that serves the local queue of this Studio server.",
                created_by_id=ws.created_by_id,
            )
            for ws in Workspace.objects.exclude(pk__in=have)
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("compute", "0001_initial")]

    operations = [migrations.RunPython(add_local_targets, migrations.RunPython.noop)]
