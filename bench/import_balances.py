"""Benchmark: move 100,000 members in from another system, with card numbers, tiers, points and
stored value, on a fresh SQLite database (or PostgreSQL with --database-url).

    .venv/bin/python bench/import_balances.py [--rows 100000] [--database-url URL] [--profile]

Generates the members of bench/import_members.py (about 1% bad rows) plus the columns of a
merchant moving in (API.md §7): every member a Luhn-valid card number from the old system,
one in five a physical card, a tier, points (half with an expiry date) and stored value
(principal and bonus). Imports the same members twice in one process, each into a fresh
merchant: first without the balance columns (the baseline), then with them. Prints rows/s, the
seconds and their split (read, validate, members, balances), then checks that `reconcile`
finds 0 differences and that re-importing the file posts nothing. Target: under 60 s for
100,000 rows with balances on a 2-core machine; figures in docs/moving-in.md.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_members as base  # noqa: E402  (the members generator of the members bench)

BALANCE_HEADERS = [
    "card_no",
    "physical_id",
    "tier",
    "points",
    "points_expires_at",
    "stored_value_principal",
    "stored_value_bonus",
]
TIERS = ["normal", "normal", "silver", "gold"]


def setup_django(work: Path, database_url: str | None) -> None:
    if database_url:
        os.environ["PATRON_DATA_DIR"] = str(work / "data")
        os.environ["PATRON_DATABASE_URL"] = database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
        sys.path.insert(0, str(base.ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return
    base.setup_django(work)


def balance_cells(rng: random.Random, n: int) -> list[object]:
    from stdnum import luhn

    body = f"62{n:013d}"
    expires = dt.date.today() + dt.timedelta(days=rng.randint(30, 700))
    return [
        body + luhn.calc_check_digit(body),
        f"MAG{n:09d}" if rng.random() < 0.2 else "",
        rng.choice(TIERS),
        rng.randint(0, 20000) if rng.random() < 0.9 else "",
        expires.isoformat() if rng.random() < 0.5 else "",
        rng.randint(0, 500000) if rng.random() < 0.7 else "",
        rng.randint(0, 50000) if rng.random() < 0.4 else "",
    ]


def write_csv(headers: list[str], rows: list[list[object]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        writer.writerows(rows)


def create_merchant(slug: str):
    from patron.program.services import apply_program

    actor = base.create_merchant(slug)
    apply_program(
        actor,
        {
            "tiers": [
                {"code": "normal", "name": "普通会员", "rank": 0},
                {"code": "silver", "name": "银卡会员", "rank": 1},
                {"code": "gold", "name": "金卡会员", "rank": 2},
            ]
        },
    )
    return actor


def read_seconds(path: Path) -> float:
    """Reading alone: the file's bytes to rows of cells, as the import reads them."""
    from patron.members.importing.reading import read_bytes, read_rows

    started = time.perf_counter()
    for _row in read_rows(read_bytes(path), path.name):
        pass
    return time.perf_counter() - started


def run_import(actor, path: Path, label: str, profile: bool):
    from patron.members.importing import import_members

    reading = read_seconds(path)
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = import_members(actor, path, file_name=path.name, dry_run=False)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    split = result.seconds
    balances = split["extensions"]
    print(
        f"{label:<14} {result.rows_read:>8} rows {seconds:7.1f} s {result.rows_read / seconds:8.0f}"
        f" rows/s (cpu {cpu:.1f} s) | read {reading:.1f} s, validate "
        f"{max(split['check'] - reading, 0):.1f} s, members {split['write'] - balances:.1f} s, "
        f"balances {balances:.1f} s | imported {result.imported}, existing "
        f"{result.skipped_existing}, rejected {result.rejected}"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="e.g. postgres://postgres@127.0.0.1/bench")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="patron-bench-"))
    try:
        setup_django(work, args.database_url)
        from django.db import connection

        started = time.perf_counter()
        rows, bad = base.member_rows(args.rows)
        rng = random.Random(7)
        with_balances = [row + balance_cells(rng, n) for n, row in enumerate(rows, start=1)]
        plain, full = work / "members.csv", work / "members-balances.csv"
        write_csv(base.HEADERS, rows, plain)
        write_csv(base.HEADERS + BALANCE_HEADERS, with_balances, full)
        print(
            f"{connection.vendor}: generated {len(rows)} rows ({bad} bad) in "
            f"{time.perf_counter() - started:.1f} s; csv {plain.stat().st_size // 1024} KB "
            f"without balances, {full.stat().st_size // 1024} KB with"
        )
        suffix = f"{os.getpid()}"
        run_import(create_merchant(f"plain-{suffix}"), plain, "baseline", args.profile)
        actor = create_merchant(f"moving-{suffix}")
        first = run_import(actor, full, "with balances", args.profile)
        check(actor, first, full, args.profile)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def check(actor, first, path: Path, profile: bool) -> None:
    """Reconcile finds nothing, and the same file again posts nothing."""
    from patron.ledger.models import Transaction
    from patron.ledger.selectors import reconcile

    started = time.perf_counter()
    differences = reconcile(actor.merchant)
    print(f"reconcile: {len(differences)} differences in {time.perf_counter() - started:.1f} s")
    migration = Transaction.objects.filter(merchant=actor.merchant, kind="migration")
    posted = migration.count()
    again = run_import(actor, path, "re-import", profile)
    print(f"migration transactions: {posted}, after re-import {migration.count()} (same)")
    assert not differences and migration.count() == posted and again.imported == 0
    assert first.imported > 0


if __name__ == "__main__":
    main()
