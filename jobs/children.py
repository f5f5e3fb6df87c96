"""Job types and their handlers: the hook through which higher apps (sweeps, pipelines, batch
scoring) own a parent job. jobs/ never imports them; each registers here in `AppConfig.ready()`.

A handler gives two things for its type:
- `submit(workspace, *, actor, data, code, source) -> Job`: create the parent from a validated spec
  (called by `do_submit_job` when `type:` names it);
- `child_ended(parent_id, child_id)`: called on commit each time one of the parent's children
  reaches a final state, so the parent's state is advanced by the database, never by a loop that
  holds a worker;
- `child_started(parent_id, child_id)` (optional): called while a child's command runs, in a
  thread of its runner, for bookkeeping that may wait (a sweep gets its next trial ready); the
  runner joins it before its slot takes other work;
- `cancel(job, *, actor) -> Job` (optional): what `do_cancel_job` does for a parent (cancel its
  children too);
- `validate(workspace, *, actor, data, source)` (optional): check a job mapping of this type without
  creating anything, raising ValidationError with the fields (and lines) at fault; what a schedule
  calls when it is made, so a broken job is refused then rather than at each firing;
- `page` (optional): the URL name of the parent's own page (args: workspace, job name), where the
  job page sends it;
- `create` (optional): (button label, URL name of its creation form, args: workspace), offered
  beside "Create job" on the jobs list;
- `schema` (optional): the type's schema (a studio.schema.SpecSerializer), which the jobs API's
  OpenAPI document lists beside the command job's, so the CLI checks such files' keys against it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from jobs.models import Job

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TypeHandler:
    submit: Callable
    child_ended: Callable[[int, int], None]
    child_started: Callable[[int, int], None] | None = None
    cancel: Callable | None = None
    page: str | None = None
    validate: Callable | None = None
    create: tuple[str, str] | None = None
    schema: type | None = None


_handlers: dict[str, TypeHandler] = {}


def register(job_type: str, handler: TypeHandler) -> None:
    _handlers[job_type] = handler


def handler_for(job_type: str) -> TypeHandler | None:
    return _handlers.get(job_type)


def schemas() -> list[type]:
    """The schemas of the registered job types that have one (for the API's document)."""
    return [h.schema for h in _handlers.values() if h.schema is not None]


def create_links() -> list[tuple[str, str]]:
    """(label, URL name) of each job type's own creation form."""
    return [h.create for h in _handlers.values() if h.create]


def child_ended_on_commit(parent_id: int, parent_type: str, child_id: int) -> None:
    """Tell the parent's handler, once the transaction that ended the child commits."""
    handler = _handlers.get(parent_type)
    if handler is None:
        return

    def notify() -> None:
        try:
            handler.child_ended(parent_id, child_id)
        except Exception:  # a parent's bookkeeping must never fail the child's runner
            logger.exception("advancing parent job %s after child %s ended", parent_id, child_id)

    transaction.on_commit(notify)


def child_started_in_background(parent_id: int | None, child_id: int) -> threading.Thread | None:
    """Run the parent's `child_started` hook in a thread (None when there is nothing to run): the
    child's command runs meanwhile, so the parent's bookkeeping costs it no time. The caller joins
    the thread."""
    if parent_id is None:
        return None

    def notify() -> None:
        try:
            parent_type = Job.objects.filter(pk=parent_id).values_list("type", flat=True).first()
            handler = _handlers.get(parent_type or "")
            if handler is not None and handler.child_started is not None:
                handler.child_started(parent_id, child_id)
        except Exception:  # a parent's bookkeeping must never fail the child's runner
            logger.exception("advancing parent job %s after child %s started", parent_id, child_id)
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=notify, name=f"child-started-{child_id}", daemon=True)
    thread.start()
    return thread
