"""Nothing is lost when the worker is killed (-9) in the middle of dispatching: a real
`patron worker` process on PostgreSQL and Redis, a test consumer that records what it is
handed (outbox_recorder.py), killed while a batch is under way, then started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from patron.events.models import Event
from patron.events.services import emit
from tests.cli_support import PATRON
from tests.events.outbox_recorder import TABLE
from tests.server.serving import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("PATRON_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")
MEMBERS = 4
EVENTS = 400  # two batches of the dispatcher (dispatch.BATCH)
DELAY = "0.02"  # seconds per event in the consumer: a batch takes a few seconds
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgres_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("the kill -9 test needs PostgreSQL (run with PATRON_TEST_POSTGRES)")
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()  # this test's own Redis database
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture
def delivered_table():
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} (seq bigserial PRIMARY KEY, uid uuid UNIQUE NOT NULL,"
            " event_id bigint NOT NULL, member_id bigint)"
        )
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def worker_env(tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
    env.update(
        PATRON_DATA_DIR=str(tmp_path),
        PATRON_DATABASE_URL=url,
        PATRON_REDIS_URL=REDIS_URL,
        DJANGO_SETTINGS_MODULE="tests.events.outbox_worker_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        OUTBOX_TEST_DELAY=DELAY,
        PYTHONUNBUFFERED="1",
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PATRON), "worker", "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wake(env: dict[str, str]) -> None:
    """Queue the dispatch job in the worker's Redis, as a commit with events (or the sweep
    every minute) does."""
    code = (
        "import django; django.setup();"
        " from patron.events.tasks import dispatch_outbox; dispatch_outbox()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def delivered() -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, event_id, member_id FROM {TABLE} ORDER BY seq")
        return cursor.fetchall()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_kill_9_mid_batch_loses_nothing_and_keeps_each_members_order(
    merchant, delivered_table, tmp_path
):
    for n in range(EVENTS):
        emit(merchant.pk, "sale.completed", {"n": n}, member_id=1000 + n % MEMBERS)
    env, log = worker_env(tmp_path), tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wake(env)
        # The first batch committed (with its consumer's rows), the second under way: kill.
        wait_for(lambda: len(delivered()) > 0, 120, "the first batch")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        at_kill = len(delivered())
        assert 0 < at_kill < EVENTS, log.read_text()
        pending = Event.objects.filter(dispatched_at__isnull=True).count()
        assert pending == EVENTS - at_kill  # what the killed batch had done is undone
        worker = start_worker(env, log)
        wake(env)
        wait_for(lambda: len(delivered()) == EVENTS, 180, "every event")
    finally:
        stop(worker)
    rows = delivered()
    assert sorted(event_id for _seq, event_id, _m in rows) == sorted(
        Event.objects.values_list("pk", flat=True)
    )
    for member in range(1000, 1000 + MEMBERS):
        ids = [event_id for _seq, event_id, m in rows if m == member]
        assert ids == sorted(ids) and len(ids) == EVENTS // MEMBERS
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
