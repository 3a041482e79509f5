"""Run the real `patron` console script against a fresh SQLite file of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PATRON = Path(sys.executable).with_name("patron")


def cli_in_process(*args: str) -> int:
    """Run `patron ARGS` in this process, on the test's database; returns the exit code.

    Django's `run_from_argv` closes every connection when a command ends, which would close
    the test's own (inside its transaction: fatal on PostgreSQL, ignored by SQLite's in-memory
    test database), so closing is suspended while the command runs.
    """
    from unittest import mock

    from django.db import connections

    from patron.cli import main as patron_cli

    with mock.patch.object(connections, "close_all", lambda: None):
        try:
            patron_cli(list(args))
        except SystemExit as exit_:
            return int(exit_.code or 0)
    return 0


def patron_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
    env.update(
        PATRON_DATA_DIR=str(data_dir),
        PATRON_DATABASE_URL=f"sqlite:///{data_dir / 'patron.sqlite3'}",
        DJANGO_SETTINGS_MODULE="patron.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_patron(data_dir: Path, *args: str, stdin: str | None = None):
    return subprocess.run(
        [str(PATRON), *args],
        env=patron_env(data_dir),
        cwd=data_dir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated database for the session; each test gets a copy."""
    data_dir = tmp_path_factory.mktemp("patron-template")
    done = run_patron(data_dir, "migrate", "--verbosity", "0")
    assert done.returncode == 0, done.stderr
    return data_dir


@pytest.fixture
def patron_cli(migrated_template, tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in os.listdir(migrated_template):
        if name.startswith("patron.sqlite3"):
            shutil.copy(migrated_template / name, data_dir / name)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run_patron(data_dir, *args, stdin=stdin)

    run.data_dir = data_dir  # type: ignore[attr-defined]
    return run
