"""Advancing a batch scoring job: start mini-batches up to the deployment's concurrency, retry a
failed one while retries are left, stop when failed files pass error_threshold, and at the end
merge the mini-batches' rows into `outputs/score/<output_file_name>` of the parent.

`advance()` runs on commit each time a mini-batch's child job ends (the jobs.children hook),
under a lock on the BatchRun row, so any process may run it and none waits for children.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from endpoints.batch.models import BatchRun, MiniBatch, MiniBatchState
from jobs.artifacts import outputs_root
from jobs.models import UNFINISHED_STATUSES, FailureKind, Job, JobEvent, JobStatus
from jobs.runner.lifecycle import advance as move
from jobs.runner.lifecycle import cancel_parent, note
from jobs.services import do_cancel_job, do_submit_job
from studio import activity
from studio.errors import Conflict

log = logging.getLogger(__name__)


def on_child_ended(parent_id: int, child_id: int) -> None:
    """The jobs hook: one mini-batch's child job reached a final state."""
    advance(parent_id)


def advance(job_id: int) -> None:
    with transaction.atomic():
        run = BatchRun.objects.select_for_update().select_related("job__workspace").filter(job_id=job_id).first()
        if run is not None:
            advance_locked(run)


def _messages(exc) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs)
    return str(getattr(exc, "detail", exc))


def _child_name(run: BatchRun, batch: MiniBatch) -> str:
    return f"{run.job.name[:80]}-mb{batch.index}-{batch.attempts + 1}"


def _start(run: BatchRun, batch: MiniBatch) -> None:
    parent = run.job
    data = {
        **run.child_data,
        "name": _child_name(run, batch),
        "display_name": f"mini-batch {batch.index + 1}"
        + (f" (attempt {batch.attempts + 1})" if batch.attempts else ""),
        "environment_variables": {
            **run.child_data.get("environment_variables", {}),
            "STUDIO_BATCH_FILES": json.dumps(batch.files),
            "STUDIO_BATCH_ATTEMPT": str(batch.attempts + 1),
        },
        "limits": {"timeout": run.settings["timeout"] + 600},  # run() has its own timeout; this bounds set-up
    }
    with transaction.atomic():
        child = do_submit_job(
            parent.workspace, actor=parent.created_by, data=data, code=parent.code, source=parent.source, parent=parent
        )
    batch.job, batch.state, batch.attempts = child, MiniBatchState.RUNNING, batch.attempts + 1
    batch.save(update_fields=["job", "state", "attempts"])


def _close(run: BatchRun, batch: MiniBatch) -> None:
    """Record how a mini-batch's child ended; a failure with retries left goes back to Pending."""
    child = batch.job
    if child is not None and child.status == JobStatus.COMPLETED:
        batch.state, batch.detail = MiniBatchState.SUCCEEDED, ""
    else:
        why = (child.failure_reason or child.status) if child is not None else "its job was deleted"
        if (
            run.job.status == JobStatus.RUNNING
            and not run.stop_reason
            and batch.attempts <= run.settings["max_retries"]
        ):
            batch.state = MiniBatchState.PENDING
            batch.detail = f"Attempt {batch.attempts} failed ({why[:300]}); retrying."
            note(run.job_id, f"Mini-batch {batch.index + 1}: {batch.detail}", kind=JobEvent.Kind.INFO)
        else:
            batch.state, batch.detail = MiniBatchState.FAILED, f"Failed after {batch.attempts} attempts: {why[:500]}"
            run.failed_files += len(batch.files)
            run.save(update_fields=["failed_files"])
            note(run.job_id, f"Mini-batch {batch.index + 1}: {batch.detail}", kind=JobEvent.Kind.ERROR)
    batch.save(update_fields=["state", "detail"])


def advance_locked(run: BatchRun, *, refuse: bool = False) -> None:
    """Close ended mini-batches, start pending ones up to the concurrency, end the job when all
    are done. Callers hold the BatchRun row lock (or created it in this transaction)."""
    parent = run.job
    parent.refresh_from_db()
    for batch in run.mini_batches.filter(state=MiniBatchState.RUNNING).select_related("job"):
        if batch.job is None or batch.job.status not in UNFINISHED_STATUSES:
            _close(run, batch)
    threshold = run.settings["error_threshold"]
    if threshold != -1 and run.failed_files > threshold and not run.stop_reason:
        run.stop_reason = (
            f"{run.failed_files} files failed, more than the error_threshold of {threshold}: "
            "no more mini-batches start."
        )
        run.save(update_fields=["stop_reason"])
    running = run.mini_batches.filter(state=MiniBatchState.RUNNING).count()
    if parent.status == JobStatus.RUNNING and not run.stop_reason:
        limit = run.settings["instance_count"] * run.settings["max_concurrency_per_instance"]
        for batch in run.mini_batches.filter(state=MiniBatchState.PENDING).order_by("attempts", "index"):
            if running >= limit:
                break
            try:
                _start(run, batch)
            except (ValidationError, Conflict) as exc:
                if refuse:
                    raise
                run.stop_reason = f"Mini-batch {batch.index + 1} could not be started: {_messages(exc)}"[:1000]
                run.save(update_fields=["stop_reason"])
                note(parent.pk, run.stop_reason, kind=JobEvent.Kind.ERROR)
                break
            running += 1
    if running == 0 and parent.status == JobStatus.RUNNING:
        left = run.mini_batches.filter(state=MiniBatchState.PENDING).exists()
        if not left or run.stop_reason:
            _finish(run)


def _merge(run: BatchRun) -> tuple[int, Path | None]:
    """The rows of the succeeded mini-batches, in mini-batch order, as one CSV file in the
    parent's outputs (written beside and renamed into place). Returns (rows, file)."""
    settings = run.settings
    folder = outputs_root(run.job) / "score"
    folder.mkdir(parents=True, exist_ok=True)
    if settings["output_action"] == "summary_only":
        return 0, None
    target = folder / settings["output_file_name"]
    partial = folder / f".{settings['output_file_name']}.partial"
    rows = 0
    header_written = False
    with open(partial, "w", newline="") as out:
        writer = csv.writer(out)
        for batch in run.mini_batches.filter(state=MiniBatchState.SUCCEEDED).select_related("job"):
            part_root = outputs_root(batch.job)
            meta_path, part = part_root / "part.json", part_root / "part.csv"
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                meta = {}
            if meta.get("header") and not header_written:
                writer.writerow(meta["header"])
                header_written = True
            if part.is_file() and not part.is_symlink():
                with open(part, newline="") as handle:
                    for row in csv.reader(handle):
                        writer.writerow(row)
                        rows += 1
    os.replace(partial, target)
    return rows, target


def _finish(run: BatchRun) -> None:
    parent = run.job
    batches = list(run.mini_batches.all())
    done = sum(1 for b in batches if b.state == MiniBatchState.SUCCEEDED)
    failed = [b for b in batches if b.state == MiniBatchState.FAILED]
    try:
        rows, target = _merge(run)
    except OSError as exc:
        reason = f"The mini-batches' rows could not be merged: {exc.strerror or exc}"
        move(
            parent.pk,
            JobStatus.RUNNING,
            JobStatus.FAILED,
            reason,
            failure_kind=FailureKind.INFRA,
            failure_reason=reason,
        )
        return
    where = f" into score/{target.name}" if target else ""
    scored_files = run.total_files - run.failed_files
    summary = (
        f"{done} of {len(batches)} mini-batches scored ({scored_files} of {run.total_files} files), {rows} rows{where}."
    )
    threshold = run.settings["error_threshold"]
    if run.stop_reason or (failed and threshold != -1 and run.failed_files > threshold) or done == 0:
        reason = f"{run.stop_reason or 'Mini-batches failed.'} {summary}".strip()
        moved = move(
            parent.pk,
            JobStatus.RUNNING,
            JobStatus.FAILED,
            reason,
            failure_kind=FailureKind.USER_ERROR,
            failure_reason=reason,
        )
        status = JobStatus.FAILED
    else:
        moved = move(parent.pk, JobStatus.RUNNING, JobStatus.COMPLETED, summary, exit_code=0)
        status = JobStatus.COMPLETED
    if moved:
        Job.objects.filter(pk=parent.pk).update(ended_at=timezone.now())
        activity.record(parent.workspace, None, "batch_job.ended", parent.name, status=status)


def do_cancel_batch_job(job: Job, *, actor) -> Job:
    """Cancel a batch scoring job: no new mini-batches, and every unfinished one is canceled."""
    with transaction.atomic():
        run = BatchRun.objects.select_for_update().get(job=job)
        reason = cancel_parent(job, actor=actor)
        run.stop_reason = reason
        run.save(update_fields=["stop_reason"])
        for child in Job.objects.filter(parent=job, status__in=UNFINISHED_STATUSES, cancel_requested_at__isnull=True):
            do_cancel_job(child, actor=actor)
        activity.record(job.workspace, actor, "batch_job.canceled", job.name)
    job.refresh_from_db()
    return job


def progress(run: BatchRun) -> dict:
    """{"done", "total", "failed", "running", "pending", "retries"} of a run's mini-batches."""
    counts = {state: 0 for state in MiniBatchState.values}
    retries = 0
    for state, attempts in run.mini_batches.values_list("state", "attempts"):
        counts[state] += 1
        retries += max(0, attempts - 1)
    total = sum(counts.values())
    return {
        "total": total,
        "done": counts[MiniBatchState.SUCCEEDED] + counts[MiniBatchState.FAILED],
        "succeeded": counts[MiniBatchState.SUCCEEDED],
        "failed": counts[MiniBatchState.FAILED],
        "running": counts[MiniBatchState.RUNNING],
        "pending": counts[MiniBatchState.PENDING],
        "retries": retries,
    }
