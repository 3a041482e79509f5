"""The last run of each background job, recorded from huey's signals.

The apps below declare their periodic jobs in their own `tasks.py` and know nothing of this
floor; the server app connects `record_run` to huey's "complete" and "error" signals
(apps.ServerConfig.ready), so every job the worker runs leaves its time and outcome in JobRun.
"""

from __future__ import annotations

import functools
import logging

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey import signals
from huey.api import Task
from huey.contrib.djhuey import HUEY

from patron.server.models import JobRun

log = logging.getLogger("patron.server")
ERROR_LENGTH = 500


def job_name(task_class: type) -> str:
    """`patron.ledger.tasks.expire_points_hourly` -> `ledger.expire_points_hourly`."""
    module = task_class.__module__.removeprefix("patron.").removesuffix(".tasks")
    return f"{module}.{task_class.__name__}"


def connect() -> None:
    HUEY.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(record_run)


def record_run(signal: str, task: Task, exc: BaseException | None = None) -> None:
    """One upsert per run. A failure to record is logged, never raised: huey would only log it
    too, and the job itself has already run."""
    run = JobRun(
        name=job_name(type(task)),
        last_run=timezone.now(),
        ok=signal == signals.SIGNAL_COMPLETE,
        error="" if exc is None else f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH],
    )
    try:
        JobRun.objects.bulk_create(
            [run],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["last_run", "ok", "error"],
        )
    except DatabaseError:
        log.exception("could not record the run of %s", run.name)
    finally:
        if not HUEY.immediate:  # as huey's db_task does: a worker thread holds no stale link
            close_old_connections()


@functools.cache
def periodic_job_names() -> tuple[str, ...]:
    """Every periodic job, whether or not it has run yet."""
    # Like `run_huey`: the web processes never import the apps' tasks modules otherwise.
    autodiscover_modules("tasks")
    # huey lists its periodic tasks only through its registry (no public accessor).
    return tuple(sorted(job_name(type(task)) for task in HUEY._registry.periodic_tasks))


def last_runs() -> dict[str, dict]:
    """{job: {"last_run": ISO time with offset or None, "ok": bool or None[, "error"]}} for
    every periodic job."""
    recorded = {run.name: run for run in JobRun.objects.filter(name__in=periodic_job_names())}
    runs = {}
    for name in periodic_job_names():
        run = recorded.get(name)
        if run is None:
            runs[name] = {"last_run": None, "ok": None}
            continue
        runs[name] = {
            "last_run": timezone.localtime(run.last_run).isoformat(timespec="seconds"),
            "ok": run.ok,
        }
        if run.error:
            runs[name]["error"] = run.error
    return runs
