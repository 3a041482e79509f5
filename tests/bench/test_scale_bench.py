"""`make bench-scale` at a tiny size, so the bench never rots (PostgreSQL only).

Runs bench/scale.py as `make bench-scale` does, with 2,000 members and 3 requests a figure, in a
database of its own: it must build, import through the CLI, fill the other tables, print a
figure (or an HTTP status) for every search and page with the plain SQL's beside it, and drop
its database at the end. The figures themselves are not checked (no timing assertions).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def bench_module():
    """bench/scale.py, loaded by path (this test package is also called `bench`)."""
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


scale = bench_module()

pytestmark = pytest.mark.postgres
# A figures line: label, p50, p95, SQL p50, SQL p95, ratio, statements, rows, found.
FIGURES = re.compile(r"^(?P<label>.+?)(\s+[\d.]+){5}\s+\d+\s+(?P<rows>\d+)\s+(?P<found>\S+)")


@pytest.fixture
def server() -> str:
    url = os.environ.get("PATRON_TEST_POSTGRES", "")
    if connection.vendor != "postgresql" or not url:
        pytest.skip("the bench runs on PostgreSQL (PATRON_TEST_POSTGRES)")
    return url.rsplit("/", 1)[0] + "/"


def database_exists(server: str, name: str) -> bool:
    with psycopg.connect(server + "postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def test_bench_scale_runs_at_a_tiny_size(server, tmp_path):
    database = f"patron_bench_scale_smoke_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k != "PATRON_DATABASE_URL"}
    env["PATRON_DATA_DIR"] = str(tmp_path)
    run = subprocess.run(
        [sys.executable, "bench/scale.py", "--members", "2000", "--samples", "3"]
        + ["--page-target-ms", "0"]
        + ["--pg", server, "--database", database],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert re.search(r"import: 2,000 rows .* peak RSS \d+ MB", out), out
    assert "members_member 2,000" in out
    lines = {m["label"].strip(): m for line in out.splitlines() if (m := FIGURES.match(line))}
    sample = scale.Sample([1], ["13800000000"], ["1"], ["A1"], [1], [1], [1])
    for probe in scale.searches(0, sample, 1) + scale.pages(0, sample, 1, stores={}):
        assert probe.label in lines, f"no figures for {probe.label}:\n{out}"
    # The members searched for exist: an exact mobile and a card number find their member.
    assert lines["exact mobile (mobile=)"]["found"] == "3/3"
    assert lines["card number"]["found"] == "3/3"
    # The member list draws a full first page (50 members and its header).
    assert int(lines["member list"]["rows"]) > 50
    # Every page "misses" a target of 0 ms: each prints its slowest statement's plan.
    assert out.count("Execution Time:") >= len(scale.pages(0, sample, 1, stores={})), out
    assert not database_exists(server, database)
