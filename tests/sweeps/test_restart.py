"""A sweep survives its processes dying: the web process (which took the submission and receives
the trials' MLflow metrics) and the worker (which runs the trials) are killed with SIGKILL
mid-sweep, then started again; the sweep completes with exactly `max_total_trials` trials, none
lost and none run twice. The reaper and the periodic sweep check (their own processes in
production) tick in a thread of the test, as they outlive the processes killed here."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading

import pytest
import requests
from django.db import connection
from django.test import override_settings

from jobs.models import Job, JobStatus
from jobs.reaper import reap_once
from studio import services as studio_services
from sweeps import engine
from sweeps.models import TrialState
from sweeps.services import check_sweeps
from tests.compute.conftest import make_target, purged, worker_env, workers  # noqa: F401 - fixtures
from tests.jobs.conftest import make_environment, make_zip, wait_for
from tests.sweeps.conftest import LIGHT_TRIAL

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_web(workers, port):  # noqa: F811
    proc = workers.run(
        [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    )

    def up():
        try:
            return requests.get(f"http://127.0.0.1:{port}/login/", timeout=10).status_code == 200
        except requests.RequestException:
            assert proc.poll() is None, workers.log(proc)
            return False

    wait_for(up, 60, 0.3)
    return proc


def _kill(proc) -> None:
    """SIGKILL the whole process group: the process and every child it started."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@pytest.fixture
def housekeeping():
    """The reaper (a node is lost after 10 s of silence: heartbeats lag on a loaded machine) and
    Celery beat's sweep check."""
    stop = threading.Event()

    def tick():
        try:
            with override_settings(STUDIO_NODE_UNREACHABLE_SECONDS=10):
                while not stop.wait(0.5):
                    reap_once()
                    check_sweeps()
        finally:
            connection.close()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(15)


def test_killing_the_worker_and_the_web_process_mid_sweep_loses_and_duplicates_no_trial(
    workers,  # noqa: F811
    housekeeping,
    workspace,
    owner,
    settings,
):
    engine.forget()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings.STUDIO_PUBLIC_URL = base
    workers.env = workers.env | {"STUDIO_PUBLIC_URL": base}
    make_environment(workspace, owner, "with-mlflow", user_managed_dependencies=True, interpreter_path=sys.executable)
    target = make_target(workspace, owner, name="sweep-restart", max_instances=4)
    _, token = studio_services.do_create_token(user=owner, name="restart")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    with purged(target.queue_name):
        web = _start_web(workers, port)
        worker = workers.start(f"{workspace.name}/{target.name}", "--pool", "threads", "-c", "2")
        wait_for(lambda: target.nodes().filter(state="Ready").exists(), 60)
        jobs_url = f"{base}/api/v1/workspaces/{workspace.name}/jobs/"
        zipped = make_zip({"t.py": LIGHT_TRIAL})
        code = api.post(f"{base}/api/v1/workspaces/{workspace.name}/codes/", files={"file": ("code.zip", zipped)})
        code = code.json()["id"]
        answer = api.post(
            jobs_url,
            json={
                "type": "sweep",
                "compute": target.name,
                "trial": {
                    "command": "python t.py ${{search_space.x}} ${{search_space.y}} 12 0.3",
                    "environment": "with-mlflow:1",
                    "code": code,
                },
                "search_space": {
                    "x": {"type": "uniform", "min_value": 0, "max_value": 1},
                    "y": {"type": "choice", "values": [0, 1, 2]},
                },
                "objective": {"primary_metric": "score", "goal": "maximize"},
                "sampling_algorithm": {"type": "random", "seed": 7},
                "limits": {"max_total_trials": 4, "max_concurrent_trials": 2},
            },
        )
        assert answer.status_code == 201, answer.text
        sweep = Job.objects.get(name=answer.json()["name"])

        def mid_sweep():
            trials = sweep.sweep.trials.select_related("job")
            ended = [t for t in trials if t.state != TrialState.RUNNING]
            running = [t for t in trials if t.job.status == JobStatus.RUNNING and t.job.metrics.exists()]
            return len(ended) >= 1 and len(running) >= 1

        wait_for(mid_sweep, 120, 0.2)
        interrupted = set(
            sweep.sweep.trials.filter(job__status__in=(JobStatus.RUNNING, JobStatus.PREPARING)).values_list(
                "number", flat=True
            )
        )
        _kill(web)
        _kill(worker)
        # Both come back (starting takes a while on a loaded machine: meanwhile the reaper notices
        # the old node is silent and re-queues the trials it was running).
        workers.start(f"{workspace.name}/{target.name}", "--pool", "threads", "-c", "2")
        _start_web(workers, port)
        wait_for(lambda: target.nodes().filter(state="Unreachable").exists(), 60, 0.3)
        sweep = wait_for(
            lambda: (j := Job.objects.get(pk=sweep.pk)).status in (JobStatus.COMPLETED, JobStatus.FAILED) and j,
            240,
            0.5,
        )
    trials = list(sweep.sweep.trials.select_related("job").order_by("number"))
    report = [(t.number, t.state, t.job.status, t.job.attempt, t.job.failure_reason[:80]) for t in trials]
    assert sweep.status == JobStatus.COMPLETED, (sweep.failure_reason, report)
    assert len(trials) == 4 and Job.objects.filter(parent=sweep).count() == 4, report
    assert len({t.number for t in trials}) == 4 and len({t.job.name for t in trials}) == 4, report
    assert all(t.state == TrialState.COMPLETED and t.value is not None for t in trials), report
    assert interrupted, "the kill happened while trials ran"
    retried = {t.number for t in trials if t.job.attempt > 0}
    assert retried == interrupted, ("the trials cut short are run again, in the same job", report)
    study = engine.study(engine.SweepSpec.from_dict(sweep.sweep.spec), sweep.sweep.study_name)
    told = {t.number: t.value for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"}
    assert told == {t.number: t.value for t in trials}, "Optuna was told each trial's value once"
    engine.forget()
