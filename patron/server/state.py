"""The running generation of `patron serve`, in a small JSON file in the data dir.

`serve-<port>.json` names the supervisor (pid, port, server, start time) and the embedded job
worker's health (pid, alive, restarts, last exit). The supervisor rewrites it on every change;
the web workers read it for `/healthz` (they find it through `PATRON_SERVE_STATE`, inherited
from the supervisor), and a second `patron serve` on the same port reads it to name the
generation that still holds the port. It is removed on an orderly stop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

STATE_ENV = "PATRON_SERVE_STATE"


def state_path(port: int) -> Path:
    return Path(settings.DATA_DIR) / f"serve-{port}.json"


def local_now() -> str:
    """Now in the server's zone, with its offset (times people read in /healthz)."""
    return timezone.localtime().isoformat(timespec="seconds")


def write_state(path: Path, state: dict) -> None:
    """Replace the file in one step, so a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state))
    os.replace(partial, path)


def read_state(path: Path | str | None) -> dict | None:
    if not path:
        return None
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def current_state() -> dict | None:
    """The state of the `patron serve` this process runs under, if any."""
    return read_state(os.environ.get(STATE_ENV))


def pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True
