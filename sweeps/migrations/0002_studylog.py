"""Optuna's studies move into Studio's database (`StudyLog`, read by `engine.DatabaseJournal`).
A sweep still running keeps its trials: its study is copied from where Optuna kept it before
(Optuna's own tables on PostgreSQL, a journal file beside a SQLite database)."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.db import migrations, models


def _legacy_storages(connection):
    import optuna

    found = []
    if connection.vendor == "postgresql" and "studies" in connection.introspection.table_names():
        from sqlalchemy.engine import URL

        db = connection.settings_dict
        url = URL.create(
            "postgresql+psycopg",
            username=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=int(db["PORT"]) if db.get("PORT") else None,
            database=db["NAME"],
        )
        found.append(
            optuna.storages.RDBStorage(
                url.render_as_string(hide_password=False), skip_compatibility_check=True, skip_table_creation=True
            )
        )
    journal = Path(os.environ.get("STUDIO_SWEEPS_JOURNAL") or settings.DATA_DIR / "sweeps" / "optuna.journal")
    if journal.is_file():
        from optuna.storages.journal import JournalFileBackend

        found.append(optuna.storages.JournalStorage(JournalFileBackend(str(journal))))
    return found


def copy_running_studies(apps, schema_editor):
    import optuna
    from optuna.storages.journal import BaseJournalBackend, JournalStorage

    Sweep = apps.get_model("sweeps", "Sweep")
    StudyLog = apps.get_model("sweeps", "StudyLog")
    names = list(Sweep.objects.filter(job__status="Running").values_list("study_name", flat=True))
    if not names:
        return

    class Journal(BaseJournalBackend):
        def __init__(self, name):
            self.name = name

        def read_logs(self, log_number_from):
            rows = StudyLog.objects.filter(study_name=self.name, number__gte=log_number_from).order_by("number")
            return [json.loads(entry) for entry in rows.values_list("entry", flat=True)]

        def append_logs(self, logs):
            start = StudyLog.objects.filter(study_name=self.name).count()
            StudyLog.objects.bulk_create(
                StudyLog(study_name=self.name, number=start + i, entry=json.dumps(log)) for i, log in enumerate(logs)
            )

    legacy = _legacy_storages(schema_editor.connection)
    for name in names:
        for storage in legacy:
            try:
                source = optuna.load_study(study_name=name, storage=storage)
            except KeyError:
                continue
            copy = optuna.create_study(
                study_name=name, storage=JournalStorage(Journal(name)), directions=source.directions
            )
            copy.add_trials(source.get_trials(deepcopy=False))
            break


class Migration(migrations.Migration):
    dependencies = [
        ("sweeps", "0001_sweep_and_trials"),
    ]

    operations = [
        migrations.CreateModel(
            name="StudyLog",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("study_name", models.CharField(max_length=100)),
                ("number", models.PositiveIntegerField()),
                ("entry", models.TextField(help_text="the entry, as JSON")),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("study_name", "number"), name="studylog_unique_number")
                ],
            },
        ),
        migrations.RunPython(copy_running_studies, migrations.RunPython.noop),
    ]
