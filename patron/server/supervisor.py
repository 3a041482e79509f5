"""`patron serve`'s process model: a small single-threaded supervisor and its children.

    patron serve (supervisor: signals, the state file, restarts)
    ├── web server (forked: granian or gunicorn) ── its workers
    └── job worker (`patron worker`, when the queue is embedded)

Every child is started from the supervisor's only thread and asks the kernel to kill it when
its parent dies (parent_death); so do the web server's workers. A `kill -9` of any level
therefore takes everything below it along. The supervisor reaps its children, restarts the job
worker with a growing delay when it dies, publishes the worker's health for /healthz
(state.py), and on SIGTERM / SIGINT stops both children and exits. If the web server itself
ends, there is nothing left to serve: the supervisor stops the worker and exits with an error,
for systemd (or whoever started it) to restart the whole.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path

from patron.server.parent_death import die_with_parent, prepare
from patron.server.state import local_now, write_state

log = logging.getLogger("patron.server")

POLL_SECONDS = 0.2  # how soon a dead child is noticed and a stop signal acted on
FIRST_DELAY = 1.0  # seconds before the first restart of a dead job worker
MAX_DELAY = 60.0  # the delay doubles with each quick death, up to this
STABLE_AFTER = 60.0  # a worker that ran this long before dying starts the count again
STOP_TIMEOUT = 30.0  # grace for the children to finish on SIGTERM before SIGKILL


def restart_delay(quick_deaths: int) -> float:
    """1, 2, 4 … 60 s: a worker that dies at once is not restarted in a tight loop."""
    return min(MAX_DELAY, FIRST_DELAY * 2 ** max(quick_deaths - 1, 0))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


class ForkedChild:
    """A forked function, with the part of subprocess.Popen's interface the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def become_child_of(parent: int) -> None:
    """First thing in every child (before it starts a thread): die with the parent, and leave
    Ctrl-C to it.

    A terminal's Ctrl-C sends SIGINT to every process of the group. Children that reacted to
    it as well as to the supervisor's SIGTERM would get two stops at once: a granian worker
    that gets SIGINT and then its server's SIGTERM may never stop (seen with granian 2.8, with
    or without this supervisor), and a job worker still starting up dies with a traceback. So
    SIGINT stays blocked in the children (the mask passes to their threads, forks and exec),
    and the supervisor stops each with one SIGTERM.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    die_with_parent(parent)


def fork_child(target: Callable[[], None]) -> ForkedChild:
    """Run `target` in a forked child that dies with this process; the child never returns."""
    parent = os.getpid()
    sys.stdout.flush()  # else the child would write this process's buffered output again
    sys.stderr.flush()
    # Held until the child has dropped the supervisor's handlers: a stop signal in between
    # would only set the flag of the child's copy of the supervisor, and be lost.
    held = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
        return ForkedChild(pid)
    code = 1
    try:
        for signum in held:
            signal.signal(signum, signal.SIG_DFL)  # the server installs its own
        become_child_of(parent)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held - {signal.SIGINT})
        target()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class SupervisedWorker:
    """The embedded job worker: started, watched, restarted with backoff, described."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.quick_deaths = 0
        self.started_at = 0.0  # monotonic
        self.since: str | None = None  # wall clock, for people
        self.restart_at = 0.0
        self.last_exit: dict | None = None  # when, which pid, how

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                self.command, preexec_fn=partial(become_child_of, os.getpid())
            )
        except OSError as error:
            self.process = None
            self._schedule_restart(None, f"could not start: {error}")
            return
        self.started_at = time.monotonic()
        self.since = local_now()

    def check(self) -> bool:
        """Reap a dead worker and schedule its restart, or restart it when due. True when
        something changed (the state file is then rewritten)."""
        if self.process is None:
            if time.monotonic() < self.restart_at:
                return False
            self.restarts += 1
            self.start()
            if self.process is not None:
                log.warning(
                    "job worker restarted (pid %s, restart %s)", self.process.pid, self.restarts
                )
            return True
        returncode = self.process.poll()  # reaps it: no zombie
        if returncode is None:
            return False
        pid, self.process = self.process.pid, None
        if time.monotonic() - self.started_at >= STABLE_AFTER:
            self.quick_deaths = 0
        self._schedule_restart(pid, describe_exit(returncode))
        return True

    def _schedule_restart(self, pid: int | None, how: str) -> None:
        self.quick_deaths += 1
        delay = restart_delay(self.quick_deaths)
        self.restart_at = time.monotonic() + delay
        self.last_exit = {"at": local_now(), "pid": pid, "how": how}
        log.warning("job worker (pid %s) %s; restarting it in %g s", pid, how, delay)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def describe(self) -> dict:
        return {
            "pid": self.process.pid if self.process else None,
            "alive": self.process is not None,
            "restarts": self.restarts,
            "since": self.since,
            "last_exit": self.last_exit,
        }


class Supervisor:
    """Starts the web server and the job worker, watches both, stops both."""

    def __init__(
        self,
        serve_web: Callable[[], None],
        worker_command: list[str] | None,
        state_file: Path,
        about: dict,
    ) -> None:
        self.serve_web = serve_web
        self.worker = SupervisedWorker(worker_command) if worker_command else None
        self.state_file = state_file
        self.about = about
        self.web: ForkedChild | None = None
        self.stopping = False

    def run(self) -> int:
        """Serve until SIGTERM / SIGINT (0), or until the web server ends by itself (1 unless
        it ended cleanly)."""
        prepare()
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._forward_hangup)
        try:
            self.web = fork_child(self.serve_web)
            if self.worker:
                self.worker.start()
            self.publish()
            return self._watch()
        finally:
            self._stop_children()
            self.state_file.unlink(missing_ok=True)

    def _watch(self) -> int:
        while not self.stopping:
            returncode = self.web.poll()
            if returncode is not None:
                log.log(
                    logging.ERROR if returncode else logging.WARNING,
                    "the web server (pid %s) %s; stopping patron serve",
                    self.web.pid,
                    describe_exit(returncode),
                )
                return 1 if returncode else 0
            if self.worker and self.worker.check():
                self.publish()
            time.sleep(POLL_SECONDS)
        return 0

    def publish(self) -> None:
        worker = self.worker.describe() if self.worker else None
        state = {**self.about, "web_pid": self.web.pid, "worker": worker}
        try:
            write_state(self.state_file, state)
        except OSError as error:  # /healthz goes stale; serving must go on
            log.warning("could not write %s: %s", self.state_file, error)

    def _stop(self, _signum, _frame) -> None:
        self.stopping = True

    def _forward_hangup(self, signum, _frame) -> None:
        """SIGHUP reloads the web server's workers, as it did when granian ran in this process."""
        if self.web is not None:
            self.web.send_signal(signum)

    def _stop_children(self) -> None:
        children = [child for child in (self.web, self.worker and self.worker.process) if child]
        if self.worker:
            self.worker.stop()
        if self.web is not None:
            self.web.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("pid %s did not stop within %g s; killing it", child.pid, STOP_TIMEOUT)
                child.kill()
                child.wait(timeout=STOP_TIMEOUT)
