"""`patron serve`'s process model, on real processes (issue 13, defects 1 and 2).

- `kill -9` of `patron serve` (as the OOM killer would) takes its web workers and job worker
  along, and frees the port;
- a second `patron serve` on a port still held refuses to start, naming the holder;
- `/healthz` reports the web, database, job queue, worker and each periodic job's last run;
- `kill -9` of the embedded job worker: it is reaped and restarted, and `/healthz` says so;
- SIGTERM to `patron serve` alone, or Ctrl-C, stops every child and removes its state file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import PATRON, patron_env
from tests.server.serving import (
    free_port,
    group_members,
    healthz,
    kill_group,
    port_is_free,
    start_serve,
    wait_for,
    wait_until_up,
)


def copy_database(template: Path, data_dir: Path) -> Path:
    data_dir.mkdir()
    for name in os.listdir(template):
        if name.startswith("patron.sqlite3"):
            shutil.copy(template / name, data_dir / name)
    return data_dir


class Served:
    """A running `patron serve` (with its embedded job worker) shared by a module's tests."""

    def __init__(self, data_dir: Path, port: int, process: subprocess.Popen, log: Path):
        self.data_dir, self.port, self.process, self.log = data_dir, port, process, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(migrated_template, tmp_path_factory):
    data_dir = copy_database(migrated_template, tmp_path_factory.mktemp("served") / "data")
    port, log = free_port(), data_dir / "serve.log"
    process = start_serve(data_dir, port, log=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield Served(data_dir, port, process, log)
    finally:
        kill_group(process.pid)
        process.wait(timeout=30)


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_kill_9_of_serve_takes_every_child_along_and_frees_the_port(
    migrated_template, tmp_path, server
):
    data_dir = copy_database(migrated_template, tmp_path / "data")
    port, log = free_port(), tmp_path / "serve.log"
    process = start_serve(data_dir, port, "--server", server, log=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/login/", process)
        # at least `patron serve`, a web worker and the job worker
        wait_for(lambda: len(group_members(process.pid)) >= 3, 30, "the children to start")

        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

        wait_for(lambda: not group_members(process.pid), 30, "the children to die")
        # the kernel closes a dying process's sockets a moment after its threads are gone
        wait_for(lambda: port_is_free(port), 10, "the port to be free")
    finally:
        kill_group(process.pid)
    assert "Traceback" not in log.read_text(errors="replace")


def test_a_second_serve_on_a_held_port_refuses_and_names_the_holder(served):
    second = subprocess.Popen(
        [str(PATRON), "serve", "--port", str(served.port)],
        env=patron_env(served.data_dir),
        cwd=served.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _out, err = second.communicate(timeout=120)
    finally:
        kill_group(second.pid)  # had it started, it would share the port: never leave it
    assert second.returncode != 0
    assert "Traceback" not in err
    [message] = err.strip().splitlines()
    assert f"port {served.port} on 127.0.0.1 is still in use" in message
    assert f"patron serve pid {served.process.pid}" in message


def test_healthz_reports_web_database_queue_worker_and_periodic_jobs(served):
    status, report = healthz(served.port)
    assert status == 200 and report["status"] == "ok", report
    assert set(report) == {"status", "web", "database", "job_queue", "periodic"}
    assert report["web"]["server"] == "granian" and report["web"]["started"].endswith("+08:00")
    assert report["database"]["ok"] is True and report["database"]["ms"] >= 0
    queue = report["job_queue"]
    assert (queue["kind"], queue["ok"], queue["pending"]) == ("sqlite", True, 0)
    assert queue["worker"]["alive"] is True and queue["worker"]["pid"] > 0
    assert {"ledger.expire_points_hourly", "members.purge_import_uploads_hourly"} <= set(
        report["periodic"]
    )


def test_the_job_queue_lines_are_printed_once(served):
    """huey's consumer logs through its own handler; the root handler printed each line a
    second time (issue 14, item 8). Before any worker restart, each line is there once."""
    wait_for(lambda: "Periodic tasks are enabled." in served.output(), 60, "the worker's lines")
    lines = served.output().splitlines()
    for text in ("Huey consumer started", "Scheduler runs every", "Periodic tasks are enabled."):
        assert sum(text in line for line in lines) == 1, (text, served.output())
    # The listing of the worker's commands; near the top of an hour the job itself also
    # runs and logs its name (enqueued, executing, executed): those lines are not repeats.
    listed = [line for line in lines if line.startswith("+ ") and "expire_points_hourly" in line]
    assert len(listed) == 1, served.output()


def test_a_job_the_embedded_worker_runs_shows_its_last_run(served):
    enqueue = "from patron.ledger.tasks import expire_points_hourly; expire_points_hourly()"
    queued = subprocess.run(
        [str(PATRON), "shell", "-c", enqueue],
        env=patron_env(served.data_dir),
        cwd=served.data_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert queued.returncode == 0, queued.stderr

    def recorded():
        return healthz(served.port)[1]["periodic"]["ledger.expire_points_hourly"]["last_run"]

    last_run = wait_for(recorded, 60, "the worker to run the job and record it")
    assert last_run.endswith("+08:00")
    assert healthz(served.port)[1]["periodic"]["ledger.expire_points_hourly"]["ok"] is True


def test_a_killed_job_worker_is_reaped_and_restarted(served):
    first = wait_for(lambda: healthz(served.port)[1]["job_queue"]["worker"], 30, "a worker")
    os.kill(first["pid"], signal.SIGKILL)

    def restarted():
        worker = healthz(served.port)[1]["job_queue"]["worker"]
        return worker if worker["alive"] and worker["pid"] != first["pid"] else None

    worker = wait_for(restarted, 60, "the job worker to be restarted")
    assert worker["restarts"] >= first["restarts"] + 1
    assert worker["last_exit"]["pid"] == first["pid"]
    assert worker["last_exit"]["how"] == "killed by SIGKILL"
    assert not Path(f"/proc/{first['pid']}").exists()  # reaped: no zombie left
    assert worker["pid"] in group_members(served.process.pid)
    assert f"job worker (pid {first['pid']}) killed by SIGKILL" in served.output()
    assert "Traceback" not in served.output()


@pytest.mark.parametrize("stop", ["kill", "ctrl-c"])
def test_an_orderly_stop_ends_every_child_and_removes_the_state_file(
    migrated_template, tmp_path, stop
):
    data_dir = copy_database(migrated_template, tmp_path / "data")
    port, log = free_port(), tmp_path / "serve.log"
    process = start_serve(data_dir, port, log=log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        assert (data_dir / f"serve-{port}.json").exists()
        if stop == "kill":  # as `kill PID` or systemd's main-process stop: serve alone
            process.send_signal(signal.SIGTERM)
        else:  # a terminal's Ctrl-C: SIGINT to every process of the group
            os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        wait_for(lambda: not group_members(process.pid), 30, "the children to stop")
    finally:
        kill_group(process.pid)
    wait_for(lambda: port_is_free(port), 10, "the port to be free")
    assert not (data_dir / f"serve-{port}.json").exists()
    assert "Traceback" not in log.read_text(errors="replace")
