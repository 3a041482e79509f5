"""`/healthz`: answered through the served WSGI application with no middleware, JSON, 200 when
fit for traffic, 503 when the database or the job queue is down; periodic jobs' last runs come
from huey's signals."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections
from django.test import override_settings
from huey.contrib.djhuey import HUEY

from patron import wsgi
from patron.ledger import tasks as ledger_tasks
from patron.server import health
from patron.server.jobs import periodic_job_names
from patron.server.models import JobRun
from patron.server.state import STATE_ENV, write_state

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def call(method: str = "GET", host: str = "10.0.0.7") -> dict:
    """GET /healthz through `patron.wsgi.application`, as granian calls it."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/healthz",
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    answer: dict = {}

    def start_response(status: str, headers: list) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    # As Django's test client does: a request's start and end would close the test's
    # connection, which is inside the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        answer["body"] = b"".join(wsgi.application(environ, start_response))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return answer


@pytest.fixture
def immediate_huey():
    """Jobs run in this thread, through huey (signals included), on in-memory storage."""
    HUEY.immediate = True
    try:
        yield HUEY
    finally:
        HUEY.immediate = False


@pytest.fixture
def serve_state(tmp_path, monkeypatch):
    """A state file as the `patron serve` supervisor writes it."""

    def write(worker: dict | None) -> None:
        state = {"pid": os.getppid(), "server": "granian", "started": "2026-03-01T09:00:00+08:00"}
        write_state(tmp_path / "serve-8123.json", {**state, "worker": worker})

    monkeypatch.setenv(STATE_ENV, str(tmp_path / "serve-8123.json"))
    return write


@override_settings(ALLOWED_HOSTS=["crm.example.com"])
def test_healthz_is_json_for_any_host_without_session_or_csrf():
    answer = call(host="10.0.0.7")  # a load balancer probes by address
    assert answer["status"] == 200, answer["body"]
    assert answer["headers"]["Content-Type"] == "application/json"
    assert "no-store" in answer["headers"]["Cache-Control"]
    assert "Set-Cookie" not in answer["headers"] and "Vary" not in answer["headers"]
    report = json.loads(answer["body"])
    assert report["status"] == "ok"
    assert report["web"] == {"ok": True, "pid": os.getpid()}  # not under `patron serve`
    assert report["database"]["ok"] is True
    assert report["job_queue"]["kind"] == "sqlite" and report["job_queue"]["ok"] is True
    assert report["job_queue"]["worker"] is None
    assert set(report["periodic"]) == set(periodic_job_names())
    assert report["periodic"]["ledger.expire_points_hourly"] == {"last_run": None, "ok": None}


def test_healthz_takes_only_get_and_head():
    assert call("HEAD")["status"] == 200
    assert call("POST")["status"] == 405


def test_a_periodic_job_run_records_its_last_run(immediate_huey):
    ledger_tasks.expire_points_hourly()  # through huey: it runs, then signals "complete"

    run = JobRun.objects.get(name="ledger.expire_points_hourly")
    assert run.ok is True and run.error == ""
    shown = health.health_report()["periodic"]["ledger.expire_points_hourly"]
    assert shown == {"last_run": shown["last_run"], "ok": True}
    assert shown["last_run"].endswith("+08:00")  # local time with its offset

    ledger_tasks.expire_points_hourly()
    assert JobRun.objects.filter(name="ledger.expire_points_hourly").count() == 1


def test_a_failed_periodic_job_shows_its_error_and_degrades(immediate_huey, monkeypatch):
    def broken(now):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(ledger_tasks, "expire_due_lots", broken)
    ledger_tasks.expire_points_hourly()

    answer = call()
    report = json.loads(answer["body"])
    assert answer["status"] == 200 and report["status"] == "degraded"
    run = report["periodic"]["ledger.expire_points_hourly"]
    assert run["ok"] is False and run["error"] == "RuntimeError: ledger unavailable"


def test_healthz_is_503_when_the_database_is_down(monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DownConnection())
    answer = call()
    report = json.loads(answer["body"])
    assert answer["status"] == 503 and report["status"] == "down"
    assert report["database"] == {"ok": False, "error": "OperationalError: connection refused"}
    assert report["periodic"] == {}


def test_healthz_is_503_when_the_job_queue_is_down(monkeypatch):
    def unreachable():
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(HUEY, "pending_count", unreachable)
    answer = call()
    report = json.loads(answer["body"])
    assert answer["status"] == 503 and report["status"] == "down"
    assert report["job_queue"]["ok"] is False
    assert report["job_queue"]["error"] == "ConnectionError: queue unreachable"


def test_the_supervised_worker_shows_alive_or_degrades_when_it_is_not(serve_state):
    alive = {"pid": os.getpid(), "alive": True, "restarts": 2, "since": None, "last_exit": None}
    serve_state(alive)
    report = health.health_report()
    assert report["status"] == "ok"
    assert report["job_queue"]["worker"] == alive
    assert report["web"]["server"] == "granian"
    assert report["web"]["started"] == "2026-03-01T09:00:00+08:00"

    serve_state({**alive, "pid": None, "alive": False})  # dead, restart pending
    assert health.health_report()["status"] == "degraded"


def test_a_worker_that_died_since_the_supervisor_looked_is_not_alive(serve_state):
    serve_state({"pid": 2**22 + 1, "alive": True, "restarts": 0})  # above pid_max: no such pid
    report = health.health_report()
    assert report["job_queue"]["worker"]["alive"] is False
    assert report["status"] == "degraded"
