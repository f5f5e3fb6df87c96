"""Running one job on this node, from the atomic claim to its final status.

    claim (Queued -> Preparing)  ->  environment (build or cache hit)  ->  stage code + inputs
    -> Running (process group or container; output streamed into user_logs/std_log.txt)
    -> Finalizing (outputs stored)  ->  Completed | Failed | Canceled

Every status move is conditional, so a cancel or the reaper that got there first wins and this
runner stops quietly. Runner events go to system_logs/lifecycler/execution-wrapper.txt and the
environment build to system_logs/environment/build.txt, both as they happen.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass, field

from django.utils import timezone

from compute.backends import runner_for
from jobs import artifacts, children, integrations, services
from jobs.models import FailureKind, Job, JobStatus
from jobs.runner import failure, staging
from jobs.runner.lifecycle import advance, note, set_wait
from jobs.runner.watch import Watcher
from studio.logs import LogWriter

logger = logging.getLogger(__name__)

USER_LOG = "user_logs/std_log.txt"
RUNNER_LOG = "system_logs/lifecycler/execution-wrapper.txt"
BUILD_LOG = "system_logs/environment/build.txt"
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL)", re.I)
# How long a child's runner waits, after the command, for its parent's bookkeeping begun when the
# command started (`children.child_started_in_background`); past it the thread finishes on its own.
PARENT_WORK_SECONDS = 30


class PreparationFailed(Exception):
    def __init__(self, kind: str, reason: str, excerpt: str = ""):
        super().__init__(reason)
        self.kind, self.reason, self.excerpt = kind, reason, excerpt


@dataclass
class Built:
    python: str = ""
    image: str = ""
    info: dict = field(default_factory=dict)


def _stamp(message: str) -> str:
    return f"{timezone.now().isoformat(timespec='milliseconds')} {message}\n"


def claim(job_id: int, node: str) -> Job | None:
    """Queued -> Preparing, atomically; None when the job is gone or someone else has it."""
    if not advance(
        job_id,
        JobStatus.QUEUED,
        JobStatus.PREPARING,
        f"Picked up by {node or 'a node'}",
        node=node,
        heartbeat_at=timezone.now(),
    ):
        return None
    return Job.objects.select_related(
        "workspace", "experiment", "code", "environment_version__environment", "compute", "created_by"
    ).get(pk=job_id)


def execute_job(job_id: int, *, node: str = "") -> str | None:
    """Run job `job_id` if it is still Queued; returns its final status (None if not claimed)."""
    job = claim(job_id, node)
    if job is None:
        return None
    if services.do_refuse_claimed_job(job):  # e.g. its instance was reassigned since submission
        return JobStatus.FAILED
    staging.sweep()
    watcher = Watcher(job.pk).start()
    runner_log = LogWriter(job.log_stream(RUNNER_LOG), interval=0.2)
    say = lambda message: runner_log.write(_stamp(message))  # noqa: E731
    say(f"Job {job.name} (attempt {job.attempt + 1}) preparing on node {node or '?'}")
    try:
        return _run(job, watcher, say)
    except PreparationFailed as exc:
        say(f"Preparation failed: {exc.reason}")
        return _fail(job, exc.kind, exc.reason, exc.excerpt, from_statuses=(JobStatus.PREPARING,))
    except Exception as exc:  # an unexpected runner error must still end the job, with its reason
        logger.exception("job %s failed in the runner", job.pk)
        runner_log.write(traceback.format_exc())
        return _fail(
            job,
            FailureKind.INFRA,
            f"Studio's runner failed: {type(exc).__name__}: {exc}",
            from_statuses=(JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.FINALIZING),
        )
    finally:
        watcher.stop()
        runner_log.close()
        integrations.revoke_tracking(job)


def _run(job: Job, watcher: Watcher, say) -> str | None:
    kind = job.backend or (job.compute.backend if job.compute_id else "venv")
    runner = runner_for(kind)
    say(runner.isolation())
    refusal = runner.refusal()
    if refusal:
        raise PreparationFailed(FailureKind.INFRA, refusal)
    built = _prepare_environment(job, kind, runner, say)
    if watcher.reason:
        return _stopped_before_run(job, watcher, say)
    try:
        staged = staging.stage(job, in_container=runner.in_container, log=say)
    except Exception as exc:  # a missing input or a full disk: the job fails with the reason
        logger.exception("staging job %s", job.pk)
        raise PreparationFailed(FailureKind.PREPARATION, f"Staging the job failed: {exc}") from exc
    try:
        staging.python_shim(staged, built.python)
        extra = integrations.tracking_env(job)
        env = staging.job_environment(
            job,
            staged,
            in_container=runner.in_container,
            python=built.python,
            image_path=built.info.get("image_path", ""),
            extra=extra,
        )
        secrets = [v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 6]
        spec = runner.run_spec(
            command=staged.command,
            root=staged.root,
            code=staged.code,
            python=built.python,
            image=built.image,
            env=env,
            label=f"{job.pk}-{job.attempt}",
            **_limits(job),
        )
        spec.labels = {"studio.workspace": job.workspace.name, "studio.job_name": job.name}
        if watcher.reason:
            return _stopped_before_run(job, watcher, say)
        if not advance(job.pk, JobStatus.PREPARING, JobStatus.RUNNING, f"Running on {job.node or 'node'} ({kind})"):
            say("The job was canceled or finished elsewhere before it started; not running it.")
            return None
        say(f"Running: {staged.command}")
        parent_work = children.child_started_in_background(job.parent_id, job.pk)
        try:
            result = _execute(job, runner, spec, watcher, secrets)
        finally:
            if parent_work is not None:
                parent_work.join(PARENT_WORK_SECONDS)
        out_of_memory = result.oom_killed or result.memory_error
        say(f"Process ended: exit code {result.exit_code}" + (" (out of memory)" if out_of_memory else ""))
        return _finish(job, staged, result, watcher, say)
    finally:
        staging.remove(staged)


def _prepare_environment(job: Job, backend: str, runner, say) -> Built:
    version = job.environment_version
    if version is None:
        raise PreparationFailed(FailureKind.PREPARATION, f"The environment {job.environment_label} no longer exists.")
    label = f"{version.environment.name}:{version.version}"
    hit, why = integrations.cache_outlook(version, backend, job.workspace)
    set_wait(job.pk, f"preparing environment {label} (cache hit)" if hit else f"building environment {label} ({why})")
    from environments.builds import BuildFailed

    asked = timezone.now()
    with LogWriter(job.log_stream(BUILD_LOG), interval=0.2) as build_log:
        try:
            build = integrations.ensure_built(
                version,
                backend,
                lambda line: build_log.write(line.rstrip("\n") + "\n"),
                workspace=job.workspace,
                actor=job.created_by,
            )
        except BuildFailed as exc:
            raise PreparationFailed(
                FailureKind.BUILD_FAILED,
                f"Building environment {label} failed: {exc.build.error or 'see the build log'}",
            ) from exc
    # A build finished before this job started counts as a cache hit too (another job built it).
    reused = bool(build.cache_hit or (build.finished_at and build.finished_at < asked))
    reason = integrations.reuse_note(build) if reused else build.reason  # never "cache miss" on a hit
    info = {
        "build_id": build.pk,
        "backend": backend,
        "spec_hash": build.spec_hash,
        "cache_hit": reused,
        "reason": reason,
        "python": build.python,
        "image": build.image,
        "resolved_packages": len(build.resolved_packages or []),
    }
    image = build.image
    if image:
        info["image_path"] = runner.image_path(_target(job), image)
    Job.objects.filter(pk=job.pk).update(build_info=info)
    job.build_info = info
    how = "cache hit" if reused else "built"
    note(job.pk, f"Environment {label} on {backend}: {how}" + (f" ({reason})" if reason else ""))
    say(f"Environment {label}: {how}; " + (f"image {image}" if image else f"python {build.python}"))
    return Built(python=build.python, image=image, info=info)


def _target(job: Job):
    return job.compute if job.compute_id else None


def _limits(job: Job) -> dict:
    """Per-job limits: the job's own resources, within the compute target's size."""
    cpu = job.resources.get("cpu")
    memory = job.resources.get("memory")
    if job.compute_id:
        target_cpu = float(job.compute.cpu_cores or 0) or None
        target_memory = (job.compute.memory_mb or 0) * 1024 * 1024 or None
        cpu = min(cpu, target_cpu) if cpu and target_cpu else (cpu or target_cpu)
        memory = min(memory, target_memory) if memory and target_memory else (memory or target_memory)
    return {"cpu": cpu, "memory": memory, "shm_size": job.resources.get("shm_size")}


def _execute(job: Job, runner, spec, watcher: Watcher, secrets: list[str]):
    with runner.running(spec, target=_target(job), node=job.node or "", is_over=_is_over) as run:
        watcher.attach(run, job.timeout_seconds)
        with LogWriter(job.log_stream(USER_LOG), interval=0.05, secrets=secrets) as user_log:
            run.pump(user_log.write)
        result = run.wait()
        watcher.detach()
    return result


def _is_over(label: str) -> bool:
    """Whether the job attempt a leftover container is labelled with ("<job id>-<attempt>") is over."""
    pk, _, attempt = label.partition("-")
    if not pk.isdigit():
        return False
    row = Job.objects.filter(pk=int(pk)).values("status", "attempt").first()
    return (
        row is None
        or row["status"] not in (JobStatus.RUNNING, JobStatus.PREPARING, JobStatus.FINALIZING)
        or str(row["attempt"]) != attempt
    )


def _stopped_before_run(job: Job, watcher: Watcher, say) -> str | None:
    if watcher.reason == "canceled":
        say("Canceled before the command started.")
        _cancel(job, watcher, (JobStatus.PREPARING,))
        return JobStatus.CANCELED
    return None


def _cancel(job: Job, watcher: Watcher, from_statuses) -> None:
    from django.contrib.auth import get_user_model

    who = get_user_model().objects.filter(pk=watcher.canceled_by_id).first() if watcher.canceled_by_id else None
    reason = f"Canceled by {who.get_username()}." if who else "Canceled."
    advance(job.pk, from_statuses, JobStatus.CANCELED, reason, failure_kind=FailureKind.CANCELED, failure_reason=reason)


def _finish(job: Job, staged, result, watcher: Watcher, say) -> str | None:
    if watcher.reason == "gone":
        say("The job was finished elsewhere (reaped or deleted) while it ran; stopping.")
        return None
    if watcher.reason == "canceled":
        _store_outputs(job, staged, say)
        _cancel(job, watcher, (JobStatus.RUNNING,))
        say("Canceled.")
        return JobStatus.CANCELED
    if not advance(job.pk, JobStatus.RUNNING, JobStatus.FINALIZING, "Uploading outputs", exit_code=result.exit_code):
        return None
    lines = failure.last_lines(job.log_stream(USER_LOG))
    if full := artifacts.disk_full(staged.root, lines):
        # Files written when the disk filled up may be cut short: keep the log, not the outputs.
        say(f"{full} Outputs were not kept: they may be truncated.")
        return _fail(job, FailureKind.INFRA, f"{full} The log is kept; outputs are not, as they may be truncated.")
    try:
        _store_outputs(job, staged, say)
    except artifacts.NoSpaceLeft as exc:
        say(str(exc.strerror))
        return _fail(job, FailureKind.INFRA, exc.strerror)
    except Exception as exc:  # outputs that cannot be stored fail the job, with the reason
        logger.exception("storing outputs of job %s", job.pk)
        return _fail(job, FailureKind.INFRA, f"Uploading outputs failed: {exc}", from_statuses=(JobStatus.FINALIZING,))
    if watcher.reason == "timed_out":
        reason = f"Timed out: the job ran longer than its limit of {job.timeout_seconds} s and was stopped."
        return _fail(job, FailureKind.TIMED_OUT, reason, failure.error_excerpt(lines)[-2000:])
    if result.oom_killed or result.memory_error:
        limit = _limits(job)["memory"]
        size = f" of {limit / 1024 / 1024:.0f} MiB" if limit else ""
        # memory_error: venv without a memory cgroup, where RLIMIT_DATA refuses the allocation
        how = "and was killed" if result.oom_killed else "and an allocation was refused"
        reason = f"The job exceeded its memory limit{size} {how} (out of memory)."
        return _fail(job, FailureKind.MEMORY, reason, failure.error_excerpt(lines))
    if result.exit_code != 0:
        reason, excerpt = failure.explain_exit(job, result.exit_code, lines)
        return _fail(job, FailureKind.USER_ERROR, reason, excerpt)
    advance(job.pk, JobStatus.FINALIZING, JobStatus.COMPLETED, "Completed")
    say("Completed.")
    return JobStatus.COMPLETED


def _store_outputs(job: Job, staged, say) -> None:
    files, size = artifacts.store_outputs(job, staged.outputs)
    say(f"Stored outputs: {files} file(s), {size} bytes")
    integrations.upload_named_outputs(job, staged.outputs, say)


def _fail(job: Job, kind: str, reason: str, excerpt: str = "", *, from_statuses=(JobStatus.FINALIZING,)) -> str | None:
    moved = advance(
        job.pk,
        from_statuses,
        JobStatus.FAILED,
        reason,
        failure_kind=kind,
        failure_reason=reason[:4000],
        error_excerpt=excerpt[:4000],
    )
    return JobStatus.FAILED if moved else None
