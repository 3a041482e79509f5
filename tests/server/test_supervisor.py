"""The job worker's supervision: reaped when it dies, restarted after a delay that doubles
with each quick death (capped), each death and restart logged."""

from __future__ import annotations

import sys
import time

from patron.server import supervisor
from patron.server.supervisor import SupervisedWorker, describe_exit, restart_delay


def test_the_restart_delay_doubles_up_to_a_cap():
    assert [restart_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_exits_are_described_for_people():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(3) == "exited with status 3"


def wait_for_change(worker: SupervisedWorker) -> None:
    deadline = time.monotonic() + 30
    while not worker.check():
        assert time.monotonic() < deadline, "the supervised worker never changed"
        time.sleep(0.01)


def test_a_worker_that_keeps_dying_is_reaped_and_restarted_with_backoff(monkeypatch, caplog):
    monkeypatch.setattr(supervisor, "FIRST_DELAY", 0.01)
    worker = SupervisedWorker([sys.executable, "-c", "raise SystemExit(3)"])
    worker.start()
    first_pid = worker.process.pid
    for restart in (1, 2, 3):
        wait_for_change(worker)  # died: reaped, restart scheduled
        assert worker.describe()["alive"] is False
        assert worker.last_exit["how"] == "exited with status 3"
        wait_for_change(worker)  # restarted
        assert worker.restarts == restart and worker.process.pid != first_pid
    wait_for_change(worker)
    logged = [record.getMessage() for record in caplog.records]
    delays = [line.rsplit(" in ", 1)[1] for line in logged if "restarting it in" in line]
    assert delays == ["0.01 s", "0.02 s", "0.04 s", "0.08 s"]
    assert sum(line.startswith("job worker restarted (pid") for line in logged) == 3


def test_a_worker_that_ran_a_while_starts_the_count_again(monkeypatch):
    monkeypatch.setattr(supervisor, "FIRST_DELAY", 0.01)
    worker = SupervisedWorker([sys.executable, "-c", "pass"])
    worker.quick_deaths = 5
    worker.start()
    worker.started_at -= supervisor.STABLE_AFTER  # as if it had run for a minute
    wait_for_change(worker)
    assert worker.quick_deaths == 1
