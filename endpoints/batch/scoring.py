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
import shutil
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


def _part(batch: MiniBatch) -> dict:
    """What the driver said of a scored mini-batch (outputs/part.json): files, rows, header."""
    try:
        meta = json.loads((outputs_root(batch.job) / "part.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _why(child: Job) -> str:
    """A failed child's reason, with the last line it wrote to stderr when the reason lacks it
    (the driver's 'run() did not finish within N s' behind a bare 'exited with code 3')."""
    why = child.failure_reason or child.status
    last = next((line.strip() for line in reversed((child.error_excerpt or "").splitlines()) if line.strip()), "")
    return f"{why.rstrip('.')}: {last}" if last and last not in why else why


def _close(run: BatchRun, batch: MiniBatch) -> None:
    """Record how a mini-batch's child ended; a failure with retries left goes back to Pending.

    As in Azure, each element run() returns stands for one input scored: a mini-batch that
    returned fewer elements than it had files counts the difference as failed files."""
    child = batch.job
    if child is not None and child.status == JobStatus.COMPLETED:
        batch.state, batch.detail = MiniBatchState.SUCCEEDED, ""
        returned = _part(batch).get("rows")
        counted = isinstance(returned, int) and not isinstance(returned, bool) and returned >= 0
        short = len(batch.files) - returned if counted else 0
        if short > 0:
            batch.detail = f"run() returned {returned} results for {len(batch.files)} files: {short} counted as failed."
            run.failed_files += short
            run.save(update_fields=["failed_files"])
            note(run.job_id, f"Mini-batch {batch.index + 1}: {batch.detail}", kind=JobEvent.Kind.ERROR)
    else:
        why = _why(child) if child is not None else "its job was deleted"
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
    parent's outputs (written beside and renamed into place). Returns (rows, file).

    With summary_only no rows are written; the files the script wrote under
    AZUREML_BI_OUTPUT_PATH are gathered into the parent's score/ instead (rows: their count)."""
    settings = run.settings
    folder = outputs_root(run.job) / "score"
    folder.mkdir(parents=True, exist_ok=True)
    if settings["output_action"] == "summary_only":
        return _gather(run, folder), None
    target = folder / settings["output_file_name"]
    partial = folder / f".{settings['output_file_name']}.partial"
    rows = 0
    header_written = False
    with open(partial, "w", newline="") as out:
        writer = csv.writer(out)
        for batch in run.mini_batches.filter(state=MiniBatchState.SUCCEEDED).select_related("job"):
            meta = _part(batch)
            part = outputs_root(batch.job) / "part.csv"
            header = meta.get("header")
            if isinstance(header, list) and header and not header_written:
                writer.writerow([str(name) for name in header])
                header_written = True
            if part.is_file() and not part.is_symlink():
                with open(part, newline="") as handle:
                    for row in csv.reader(handle):
                        writer.writerow(row)
                        rows += 1
    os.replace(partial, target)
    return rows, target


DRIVER_FILES = {"part.json", "part.csv"}


def _gather(run: BatchRun, folder: Path) -> int:
    """Put what each succeeded mini-batch's script wrote to its outputs into `folder`, in
    mini-batch order (a later file of the same name replaces an earlier one, as in Azure's shared
    output folder). Only regular files: a link the script left there is not followed."""
    copied = 0
    for batch in run.mini_batches.filter(state=MiniBatchState.SUCCEEDED).select_related("job"):
        root = outputs_root(batch.job)
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
            for name in filenames:
                source = here / name
                relative = source.relative_to(root)
                if (here == root and name in DRIVER_FILES) or source.is_symlink() or not source.is_file():
                    continue
                target = folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)
                try:  # a finished child's outputs never change: share the bytes, not copy them
                    os.link(source, target, follow_symlinks=False)
                except OSError:
                    shutil.copyfile(source, target, follow_symlinks=False)
                copied += 1
    return copied


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
    scored_files = run.total_files - run.failed_files
    summary = f"{done} of {len(batches)} mini-batches scored ({scored_files} of {run.total_files} files)"
    if target is not None:
        summary += f", {rows} rows into score/{target.name}."
    else:
        summary += f"; summary_only: no {run.settings['output_file_name']}, {rows} files the script wrote in score/."
    threshold = run.settings["error_threshold"]
    if run.failed_files and not run.stop_reason:
        tolerated = "any number" if threshold == -1 else f"up to {threshold}"
        summary += f" {run.failed_files} files failed (error_threshold: {tolerated} tolerated)."
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


def completion_summary(job: Job) -> str:
    """What a completed batch job did ("3 of 3 mini-batches scored …", files failed within the
    error_threshold, summary_only's files): the message of its Completed event, else "". A failed
    job says the same through its failure_reason."""
    if job.status != JobStatus.COMPLETED:
        return ""
    event = job.events.filter(kind=JobEvent.Kind.STATUS, status=JobStatus.COMPLETED).order_by("-created_at").first()
    return event.message if event else ""
