"""The venv backend enforces a job's CPU and memory limits (real processes, the real runner)."""

from __future__ import annotations

import os

from compute.backends.limits import choose_cpus, ran_out_of_memory
from jobs.models import JobStatus
from tests.conftest import token_client
from tests.jobs.conftest import wait_for, wait_status
from tests.jobs.test_cancel_and_limits import SLEEPER, _cancel_when_running, _processes_matching
from tests.jobs.test_run_venv import submit

# Fills its blocks (so the pages are really used, which is what a cgroup charges) up to 1 GiB.
HOG = (
    "blocks = []\n"
    "for _ in range(64):\n"
    "    blocks.append(bytearray(b'x') * (16 * 1024 * 1024))\n"
    "print('allocated', len(blocks) * 16, 'MiB')\n"
)
SMALL = "block = bytearray(b'x') * (20 * 1000 * 1000)\nprint('allocated', len(block))\n"


def _log(api, workspace, job) -> str:
    return api.get(f"/api/v1/workspaces/{workspace.name}/jobs/{job.name}/logs/").json()["text"]


def test_a_venv_job_over_its_memory_limit_fails_with_the_memory_kind(node, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {"command": "python hog.py", "environment": "plain:1", "resources": {"memory": "200m"}},
        code={"hog.py": HOG},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=60)
    assert job.status == JobStatus.FAILED, _log(api, workspace, job)
    assert job.failure_kind == "memory"
    assert "exceeded its memory limit of 200 MiB" in job.failure_reason
    assert "allocated" not in _log(api, workspace, job)


def test_a_venv_job_within_its_memory_limit_completes(node, workspace, owner, plain_env):
    api = token_client(owner)
    job = submit(
        api,
        workspace,
        {"command": "python small.py", "environment": "plain:1", "resources": {"memory": "200m"}},
        code={"small.py": SMALL},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=60)
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, _log(api, workspace, job))
    assert "allocated 20000000" in _log(api, workspace, job)


def test_a_venv_job_with_one_cpu_sees_exactly_one_core(node, workspace, owner, plain_env):
    api = token_client(owner)
    script = "import os\nprint('cores', len(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(0)))\n"
    job = submit(
        api,
        workspace,
        # through a shell and a child python: the pinning holds for every process of the job
        {"command": "bash -c 'python cores.py'", "environment": "plain:1", "resources": {"cpu": 1}},
        code={"cores.py": script},
    )
    job = wait_status(job, (JobStatus.COMPLETED, JobStatus.FAILED), timeout=60)
    text = _log(api, workspace, job)
    assert job.status == JobStatus.COMPLETED, (job.failure_reason, text)
    assert "cores 1 [" in text, text


def test_cancel_still_stops_a_venv_job_with_limits(node, workspace, owner, plain_env):
    api = token_client(owner)
    marker = "limited_sleeper_5813"
    job = submit(
        api,
        workspace,
        {
            "command": f"python sleep.py {marker}",
            "environment": "plain:1",
            "resources": {"cpu": 1, "memory": "256m"},
        },
        code={"sleep.py": SLEEPER},
    )
    job, took = _cancel_when_running(api, workspace, job)
    assert job.status == JobStatus.CANCELED
    assert took < 5
    wait_for(lambda: not _processes_matching(marker), timeout=3)


def test_fractional_cpu_is_rounded_up_and_over_asking_gets_every_core():
    available = os.sched_getaffinity(0)
    assert len(choose_cpus(0.5)) == 1
    assert choose_cpus(0.5) <= available
    assert choose_cpus(len(available) + 3) == available
    assert choose_cpus(None) is None and choose_cpus(0) is None


def test_refused_allocations_are_recognised_at_the_end_of_the_output():
    assert ran_out_of_memory('Traceback (most recent call last):\n  File "x.py"\nMemoryError\n')
    assert ran_out_of_memory("numpy.core._exceptions._ArrayMemoryError: Unable to allocate 8.00 GiB\n")
    assert ran_out_of_memory("terminate called after throwing an instance of 'std::bad_alloc'\n")
    assert not ran_out_of_memory("ValueError: bad input\n")
    assert not ran_out_of_memory("MemoryError\n" + "later line\n" * 40), "only the end of the output counts"
