"""`GET /healthz`: is this server fit to take traffic, and are its jobs running?

Answered with no middleware at all (patron/wsgi.py routes it to a bare handler), so a load
balancer needs no session, CSRF token or allowed host name, and it stays cheap: one `SELECT 1`,
one count of the job queue, one read of the state file, one small query of JobRun.

    200 {"status": "ok"}        everything answers
    200 {"status": "degraded"}  the web and database serve, but the embedded job worker is down
                                (being restarted) or a periodic job's last run failed
    503 {"status": "down"}      the database or the job queue does not answer
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from huey.contrib.djhuey import HUEY

from patron.server.jobs import last_runs
from patron.server.state import current_state, pid_alive


@never_cache
@require_safe
def healthz(request) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


def health_report() -> dict:
    state = current_state()
    database = check_database()
    job_queue = {**check_queue(), "worker": worker_health(state)}
    periodic = last_runs() if database["ok"] else {}
    return {
        "status": overall_status(database, job_queue, periodic),
        "web": web_health(state),
        "database": database,
        "job_queue": job_queue,
        "periodic": periodic,
    }


def overall_status(database: dict, job_queue: dict, periodic: dict) -> str:
    if not (database["ok"] and job_queue["ok"]):
        return "down"
    worker = job_queue["worker"]
    if (worker and not worker["alive"]) or any(run["ok"] is False for run in periodic.values()):
        return "degraded"
    return "ok"


def check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure here is the answer, not a crash
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_queue() -> dict:
    kind = "redis" if settings.REDIS_URL else "sqlite"
    try:
        pending = HUEY.pending_count()
    except Exception as error:  # the queue's storage is down: report it
        return {"kind": kind, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"kind": kind, "ok": True, "pending": pending}


def web_health(state: dict | None) -> dict:
    web = {"ok": True, "pid": os.getpid()}
    if state:
        web.update(server=state.get("server"), started=state.get("started"))
    return web


def worker_health(state: dict | None) -> dict | None:
    """The embedded worker as `patron serve` supervises it; None when this server runs none
    (Redis, or --no-worker): a separate `patron worker` shows in the queue and periodic runs."""
    worker = (state or {}).get("worker")
    if not worker:
        return None
    # The supervisor notices a death within a fraction of a second; the pid check covers it.
    return {**worker, "alive": bool(worker.get("alive")) and pid_alive(worker.get("pid"))}
