"""Start the real `patron serve` in its own process group, watch its processes, and clean up
whatever happens (tests/cli/test_serve.py, tests/server/test_supervision.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.cli_support import PATRON, patron_env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()  # case-insensitive names
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def healthz(port: int) -> tuple[int, dict]:
    status, _headers, body = fetch(f"http://127.0.0.1:{port}/healthz")
    return status, json.loads(body)


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on {url} within {seconds} s")


def wait_for(condition: Callable[[], object], seconds: float, what: str):
    """Poll until `condition()` is truthy (generous limits, never a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def start_serve(data_dir: Path, port: int, *options: str, log: Path) -> subprocess.Popen:
    """`patron serve` with one web worker, its output in `log` (a pipe nobody reads could
    fill up and stall it)."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(PATRON), "serve", "--port", str(port), "--workers", "1", "--threads", "2"]
            + list(options),
            env=patron_env(data_dir),
            cwd=data_dir,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def group_members(group: int) -> list[int]:
    """The live processes of a process group. A zombie doesn't count: it holds no port and runs
    no code, and who reaps an orphan (init) is not up to us. But a multithreaded process
    (granian's Rust workers) shows its leader as a zombie while its other threads still close
    its files, so a process counts until every one of its threads is gone."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields and int(fields[2]) == group and _has_a_live_thread(stat.parent):
            members.append(int(stat.parent.name))
    return sorted(members)


def _stat_fields(stat: Path) -> list[str]:
    """The fields after the command name of a /proc stat file; [] once the task has ended."""
    try:
        _pid_and_name, rest = stat.read_text().rsplit(")", 1)
    except (OSError, ValueError):
        return []
    return rest.split()


def _has_a_live_thread(process: Path) -> bool:
    states = (_stat_fields(task / "stat") for task in process.glob("task/*"))
    return any(fields and fields[0] not in "ZX" for fields in states)


def kill_group(group: int) -> None:
    """Last-resort cleanup, so a failing test never leaves a server behind."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def port_is_free(port: int) -> bool:
    """Binding without SO_REUSEPORT fails while any socket (even an old generation's, bound
    with SO_REUSEPORT) listens on the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
