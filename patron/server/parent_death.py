"""Children die with their parent: Linux's PR_SET_PDEATHSIG.

A process killed by SIGKILL (the OOM killer, `kill -9`) cannot stop its children. Without this,
`patron serve`'s web workers keep listening on the port (they bind it with SO_REUSEPORT, so a
restart shares the port with the old code) and the job worker keeps running. With it, the
kernel itself sends SIGKILL to each child the moment its parent dies.

Two details make it sound:
- The signal fires when the *thread* that forked the child ends, not the process. Every child
  here is forked from its parent's main thread (the supervisor is single-threaded; granian and
  gunicorn fork their workers from their main loop), which lives as long as the process.
- The parent may die between the fork and the prctl call; the child then already has a new
  parent (init or a subreaper) and no signal will ever come, so it compares getppid() with the
  parent it expected and ends itself.

Elsewhere (macOS, the BSDs) prctl does not exist and `die_with_parent` returns False: children
are then stopped only by an orderly shutdown of `patron serve`.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    prctl.restype = ctypes.c_int
    return prctl


def prepare() -> None:
    """Load libc's prctl in the parent, so a child never has to dlopen between fork and exec."""
    _prctl()


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send `signum` (SIGKILL: a hung child cannot ignore it) to this process
    when its parent dies. Returns False where that is not possible."""
    prctl = _prctl()
    if prctl is None or prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent_pid:  # orphaned before the request took effect
        os.kill(os.getpid(), signum)
    return True
