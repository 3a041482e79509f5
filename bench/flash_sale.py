"""A flash sale at its opening second on PostgreSQL (issue 19 §1, API.md §11).

    .venv/bin/python bench/flash_sale.py [--buyers 500] [--units 100] [--attempts 2]
        [--processes 8] [--pg postgres://postgres@127.0.0.1:5432/]

Creates a fresh database (patron_bench_flash; the server from --pg, or PATRON_BENCH_POSTGRES),
a merchant with the checkout tests' program plus `flash-tea` (TEA-LJ at 9.90 yuan, limits
total --units, per_member 1) and --buyers distinct members. --processes processes, released
together by a barrier, commit every buyer's sale (each buyer --attempts times: a second till, a
second tap) through the sales service, as a till's request would. Prints committed sales/s,
p50/p95 latency, the units sold (must be exactly --units), the members who got the offer twice
(must be 0), then the same sales on a second merchant whose promotion has no limits (the
baseline) and the ratio. Skipped with a message when no PostgreSQL answers. Not a test:
nothing is asserted, figures are printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import drop_postgres, fresh_postgres, migrated_django  # noqa: E402

DATABASE = "patron_bench_flash"
TEA = {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000}


def flash(units: int | None) -> dict:
    row = {
        "code": "flash-tea",
        "name": "龙井秒杀",
        "kind": "automatic",
        "benefit": {"type": "fixed_price", "value": 990, "skus": ["TEA-LJ"]},
    }
    if units is not None:
        row["limits"] = {"total": units, "per_member": 1}
    return row


def set_up(slug: str, buyers: int, units: int | None) -> tuple[int, list[int]]:
    """A merchant with the flash promotion and `buyers` members; (merchant id, member ids)."""
    from django.db import transaction

    from patron.members.services import bulk_register
    from patron.program.services import apply_program
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store
    from tests.sales.conftest import PROGRAM

    merchant = create_merchant(slug, f"Bench {slug}")
    actor = Actor.system(merchant)
    create_store(actor, "S1", "西湖店")
    apply_program(actor, {**PROGRAM, "promotions": [*PROGRAM["promotions"], flash(units)]})
    prefix = "137" if units is None else "139"
    rows = [{"mobile": f"{prefix}{i:08d}"} for i in range(buyers)]
    with transaction.atomic():
        members = list(bulk_register(actor, rows, channel="import"))
    return merchant.pk, [member.pk for member in members]


def buy(merchant_id: int, members: list[int], attempts: int, tag: str) -> list[tuple]:
    """Commit each member's sale `attempts` times; (start, end, ok) per sale."""
    from patron.core.errors import DomainError
    from patron.sales.services import LineInput, SaleRequest, commit_sale
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant

    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    timings = []
    for attempt in range(attempts):
        for member in members:
            request = SaleRequest(lines=[LineInput(**TEA)], member=member, store="S1")
            start = time.perf_counter()
            try:
                commit_sale(actor, request, key=f"{tag}-{member}-{attempt}")
                ok = True
            except DomainError:
                ok = False
            timings.append((start, time.perf_counter(), ok))
    return timings


def child(barrier, results, index: int, job) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    try:
        from django.db import connection

        connection.ensure_connection()  # connected before the opening second
        barrier.wait(timeout=120)
        results.put((index, job(index)))
    finally:
        connections.close_all()


def opening_second(
    processes: int, merchant_id: int, members: list[int], attempts: int, tag: str
) -> list[tuple]:
    """Every process's sales, all released at once."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    share = [members[i::processes] for i in range(processes)]

    def job(index: int) -> list[tuple]:
        return buy(merchant_id, share[index], attempts, f"{tag}{index}")

    children = [
        context.Process(target=child, args=(barrier, results, i, job)) for i in range(processes)
    ]
    for process in children:
        process.start()
    collected = [results.get(timeout=900) for _ in children]
    for process in children:
        process.join(timeout=60)
    return [timing for _index, timings in collected for timing in timings]


def report(label: str, timings: list[tuple]) -> float:
    """Print committed sales/s and latency; the rate."""
    committed = [t for t in timings if t[2]]
    wall = max(t[1] for t in timings) - min(t[0] for t in timings)
    latencies = sorted((end - start) * 1000 for start, end, _ok in timings)
    rate = len(committed) / wall
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"{label:<22} {len(committed):5d} of {len(timings)} committed in {wall:6.2f} s: "
        f"{rate:7.1f} sales/s, p50 {statistics.median(latencies):6.1f} ms, p95 {p95:6.1f} ms"
    )
    return rate


def counts(merchant_id: int) -> tuple[int, int, int]:
    """(units sold by the promotion's counter, sales that applied it, members who got it
    more than once)."""
    from patron.promotions.models import PromotionStock
    from patron.sales.models import SaleDiscount

    applied = SaleDiscount.objects.filter(code="flash-tea", sale__merchant_id=merchant_id)
    per_member = Counter(applied.values_list("sale__member_id", flat=True))
    stock = PromotionStock.objects.filter(merchant_id=merchant_id).first()
    return (
        stock.sold if stock else 0,
        sum(per_member.values()),
        sum(1 for n in per_member.values() if n > 1),
    )


def postgres_answers(server: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(server.rstrip("/") + "/postgres", connect_timeout=3):
            return True
    except Exception as error:  # any failure to connect: the bench is skipped, not failed
        print(f"flash-sale bench skipped: no PostgreSQL at {server} ({error})")
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=500)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--attempts", type=int, default=2)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument(
        "--pg",
        default=os.environ.get("PATRON_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/"),
    )
    args = parser.parse_args()
    if not postgres_answers(args.pg):
        return 0
    url = fresh_postgres(args.pg, DATABASE)
    migrated_django(url, "bench-flash")
    limited_id, limited_members = set_up("flash", args.buyers, args.units)
    baseline_id, baseline_members = set_up("flashbase", args.buyers, None)
    print(
        f"flash sale: {args.buyers} buyers x {args.attempts} attempts, {args.units} units, "
        f"per_member 1, {args.processes} processes released together, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    rate = report(
        "with limits",
        opening_second(args.processes, limited_id, limited_members, args.attempts, "f"),
    )
    sold, applied, twice = counts(limited_id)
    print(
        f"{'units sold':<22} {sold:5d} (counter), {applied} sales applied it (must be {args.units})"
    )
    print(f"{'members who got it twice':<22} {twice:5d} (must be 0)")
    base = report(
        "baseline (no limits)",
        opening_second(args.processes, baseline_id, baseline_members, args.attempts, "b"),
    )
    print(f"{'ratio limits/baseline':<22} {rate / base:5.2f}")
    drop_postgres(args.pg, DATABASE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
