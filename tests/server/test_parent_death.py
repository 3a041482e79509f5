"""PR_SET_PDEATHSIG through ctypes: set in the child, and a child orphaned before it could ask
ends itself (no signal would ever come)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")

READ_BACK = """
import ctypes, os, sys
from patron.server.parent_death import die_with_parent
assert die_with_parent(int(sys.argv[1]))
seen = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(seen), 0, 0, 0)  # PR_GET_PDEATHSIG
print(seen.value)
"""


def run_child(parent: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", READ_BACK, str(parent)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_child_asks_for_sigkill_when_its_parent_dies():
    child = run_child(os.getpid())
    assert child.returncode == 0, child.stderr
    assert int(child.stdout) == signal.SIGKILL


def test_a_child_whose_parent_is_already_gone_ends_itself():
    child = run_child(os.getpid() + 100_000)  # not its parent: as if the parent had died
    assert child.returncode == -signal.SIGKILL and child.stdout == ""
