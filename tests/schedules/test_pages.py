"""The schedule pages: the list, the form (cron + a job to copy), the YAML page, and a schedule's
page with its next run times and the jobs it made."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from schedules import services
from schedules.models import Schedule
from tests.schedules.conftest import cron_schedule

PAGES = "/w/ws-main/schedules/"


@pytest.mark.django_db
def test_the_form_creates_a_schedule_and_its_page_shows_next_runs(owner, source_job, client):
    client.force_login(owner)
    form = client.get(f"{PAGES}new/")
    assert b"Nightly (nightly-source)" in form.content
    answer = client.post(
        f"{PAGES}new/",
        {"name": "hourly", "expression": "0 * * * *", "time_zone": "Europe/Berlin", "job": "nightly-source"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"{PAGES}hourly/"
    page = client.get(f"{PAGES}hourly/").content.decode()
    assert "Every hour (Europe/Berlin)" in page
    assert page.count("<time datetime=") == 5
    assert "copies azureml:nightly-source" in page
    listing = client.get(PAGES).content.decode()
    assert "hourly" in listing and "Enabled" in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"expression": "0 25 * * *"}, "expression", "hour field"),
        ({"time_zone": "Moon/Crater"}, "time_zone", "unknown time zone"),
        ({"job": ""}, "job", "required"),
        ({"name": "bad name!"}, "name", "letters, digits"),
    ],
)
def test_the_form_answers_bad_input_on_the_field(owner, source_job, client, change, field, words):
    client.force_login(owner)
    data = {"name": "hourly", "expression": "0 * * * *", "time_zone": "UTC", "job": "nightly-source"} | change
    answer = client.post(f"{PAGES}new/", data)
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert field in errors and words in " ".join(errors[field]), errors
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_the_yaml_page_takes_an_upload_and_names_the_line_of_an_error(owner, source_job, client):
    client.force_login(owner)
    text = "name: from-file\ntrigger:\n  type: cron\n  expression: '*/5 * * *'\ncreate_job: azureml:nightly-source\n"
    answer = client.post(f"{PAGES}new/yaml/", {"yaml_file": SimpleUploadedFile("nightly.yml", text.encode())})
    assert answer.status_code == 200
    errors = " ".join(answer.context["form"].non_field_errors())
    assert "nightly.yml, line 4: '*/5 * * *' is not a cron expression" in errors, errors
    fixed = text.replace("'*/5 * * *'", "'*/5 * * * *'")
    answer = client.post(f"{PAGES}new/yaml/", {"yaml_text": fixed})
    assert answer.status_code == 302
    assert Schedule.objects.get(name="from-file").trigger["expression"] == "*/5 * * * *"
    broken = client.post(f"{PAGES}new/yaml/", {"yaml_text": "name: x\ntrigger: [unclosed\n"})
    assert broken.status_code == 200 and "schedule YAML, line 2" in " ".join(broken.context["form"].non_field_errors())


@pytest.mark.django_db
def test_the_page_lists_the_jobs_it_made_and_what_went_wrong(workspace, owner, source_job, client):
    schedule = services.do_create_schedule(workspace, cron_schedule(), actor=owner)
    made = services.fire_schedule(schedule.pk)
    Schedule.objects.filter(pk=schedule.pk).update(job_spec=schedule.job_spec | {"compute": "gone"})
    services.fire_schedule(schedule.pk)
    client.force_login(owner)
    page = client.get(f"{PAGES}every-minute/").content.decode()
    assert made.job.name in page and "Queued" in page
    assert "The last firing submitted nothing" in page and "gone" in page
    client.post(f"{PAGES}every-minute/disable/")
    page = client.get(f"{PAGES}every-minute/").content.decode()
    assert "none while paused" in page and ">Resume</button>" in page


@pytest.mark.django_db
def test_the_top_bar_search_finds_a_schedule_for_members_only(workspace, owner, outsider, source_job, client):
    services.do_create_schedule(workspace, cron_schedule() | {"display_name": "Nightly retrain"}, actor=owner)
    from studio.search import search

    groups = search(owner, workspace, "retrain", 5)
    assert [(key, [hit.url for hit in hits]) for key, _, hits in groups] == [
        ("schedules", ["/w/ws-main/schedules/every-minute/"])
    ]
    assert search(outsider, workspace, "retrain", 5) == []
