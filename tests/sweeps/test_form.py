"""The "Create sweep" form: search space rows, objective, sampling, limits and early termination,
checked by the same parser as the YAML, with each error on its field or row."""

from __future__ import annotations

from jobs.models import Job
from tests.jobs.conftest import make_zip

BASE = {
    "code_source": "zip",
    "command": "python train.py --lr ${{search_space.lr}} --batch ${{search_space.batch}}",
    "environment": "plain",
    "environment_version": "latest",
    "compute": "local",
    "experiment": "Default",
    "primary_metric": "acc",
    "goal": "maximize",
    "sampling": "random",
    "seed": "3",
    "max_total_trials": "6",
    "max_concurrent_trials": "2",
    "policy": "bandit",
    "evaluation_interval": "1",
    "delay_evaluation": "2",
    "slack_factor": "0.1",
    "space-TOTAL_FORMS": "3",
    "space-INITIAL_FORMS": "0",
    "space-0-name": "lr",
    "space-0-type": "loguniform",
    "space-0-min_value": "-6",
    "space-0-max_value": "-1",
    "space-1-name": "batch",
    "space-1-type": "choice",
    "space-1-values": "16, 32, 64",
    "space-2-type": "uniform",
}


def _post(client, workspace, **changes):
    data = {**BASE, **changes, "code_zip": make_zip({"train.py": "print('hi')"})}
    return client.post(f"/w/{workspace.name}/new/sweep/", data)


def test_a_sweep_submitted_from_the_form_runs_the_rows_as_its_search_space(
    client, owner, workspace, plain_env, no_dispatch
):
    client.force_login(owner)
    assert b"Create sweep" in client.get(f"/w/{workspace.name}/jobs/").content
    assert client.get(f"/w/{workspace.name}/new/sweep/").status_code == 200
    answer = _post(client, workspace)
    assert answer.status_code == 302, answer.content.decode()[-3000:]
    sweep = Job.objects.get(type="sweep")
    assert answer.url == f"/w/{workspace.name}/sweeps/{sweep.name}/"
    spec = sweep.sweep.spec
    assert spec["search_space"] == {
        "lr": {"type": "loguniform", "min_value": -6.0, "max_value": -1.0},
        "batch": {"type": "choice", "values": [16, 32, 64]},
    }
    assert spec["seed"] == 3 and spec["max_concurrent_trials"] == 2 and spec["goal"] == "maximize"
    assert spec["early_termination"]["slack_factor"] == 0.1 and spec["early_termination"]["delay_evaluation"] == 2
    trials = list(sweep.sweep.trials.select_related("job"))
    assert len(trials) == 4 and all(t.job.code_id == sweep.code_id for t in trials), "two running, two ready"


def test_bad_input_is_answered_on_its_field_or_row(client, owner, workspace, plain_env, no_dispatch):
    client.force_login(owner)
    cases = [
        ({"space-0-min_value": "0", "space-0-max_value": "-3"}, "min_value must be below max_value"),
        ({"space-1-values": ""}, "choice values must be a list"),
        ({"space-2-values": "1", "space-2-name": ""}, "Name this parameter"),
        ({"command": "python t.py ${{search_space.nope}}"}, "search_space.nope"),
        ({"sampling": "grid"}, "grid sampling takes only choice"),
        ({"max_total_trials": "0"}, "max_total_trials must be a whole number"),
        ({"policy": "truncation_selection"}, "truncation_percentage must be a whole number"),
        ({"space-TOTAL_FORMS": "0"}, "Add at least one search space row"),
        ({"space-0-name": "bad name"}, "is not a valid parameter name"),
    ]
    for changes, message in cases:
        answer = _post(client, workspace, **changes)
        page = answer.content.decode()
        assert answer.status_code == 400 and message in page, (changes, page[-3000:])
        assert 'role="alert"' in page
    assert not Job.objects.filter(type="sweep").exists()


def test_a_reader_cannot_open_or_post_the_form(client, members, workspace, plain_env, no_dispatch):
    client.force_login(members["reader"])
    assert client.get(f"/w/{workspace.name}/new/sweep/").status_code == 403
    assert _post(client, workspace).status_code == 403
    assert b"Create sweep" not in client.get(f"/w/{workspace.name}/jobs/").content
