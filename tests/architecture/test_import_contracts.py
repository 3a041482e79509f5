"""The floors of docs/architecture.md hold, and breaking one is caught (pyproject.toml,
[tool.importlinter]; `make test` also runs `lint-imports`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", "pyproject.toml"],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def copy_of_the_project(tmp_path_factory) -> Path:
    """The package and its contracts, copied so a test can add an import that breaks one."""
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "patron", project / "patron", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


def test_every_contract_is_kept():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("ledger", "from patron.members.models import Member", "knows members by id only"),
        ("core", "from patron.tenancy.models import Merchant", "core is a toolkit"),
        ("engine", "import django", "The engine is pure Python"),
        ("members", "from patron.promotions import selectors", "Floors"),
        ("tenancy", "from patron.members import selectors", "Floors"),
        ("members", "from patron.ledger import selectors", "Floors"),  # siblings stay apart
    ],
)
def test_an_import_against_the_floors_breaks_a_contract(
    copy_of_the_project, module, line, contract
):
    probe = copy_of_the_project / "patron" / module / "_probe.py"
    probe.write_text(line + "\n")
    try:
        result = lint(copy_of_the_project)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout, result.stdout


def test_type_hints_under_type_checking_are_allowed(copy_of_the_project):
    probe = copy_of_the_project / "patron" / "ledger" / "_probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from patron.members.models import Member\n"
    )
    try:
        result = lint(copy_of_the_project)
    finally:
        probe.unlink()
    assert result.returncode == 0, result.stdout
