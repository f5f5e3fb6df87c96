import django.db.models.deletion
from django.db import migrations, models


def _job_only_indexes(schema_editor, model) -> list[str]:
    """The names of the indexes on job_id alone (not the foreign key or the (job, key, step) one)."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and info["columns"] == ["job_id"] and not info["primary_key"] and not info["unique"]
    ]


def drop_job_index(apps, schema_editor):
    # Only the index goes: an AlterField would also drop and re-add (re-check) the foreign key on
    # PostgreSQL and copy the whole table on SQLite, long on a table of millions of points.
    model = apps.get_model("jobs", "Metric")
    for name in _job_only_indexes(schema_editor, model):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def add_job_index(apps, schema_editor):
    model = apps.get_model("jobs", "Metric")
    if not _job_only_indexes(schema_editor, model):
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name('jobs_metric_job_id_only')} ON {table} (job_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0004_job_type_and_parent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="metric",
                    name="job",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="metrics",
                        to="jobs.job",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_job_index, add_job_index)],
        ),
    ]
