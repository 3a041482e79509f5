"""The reports dashboard (F-47) at scale: N members and M sales over three years in five stores.

    .venv/bin/python bench/reports_dashboard.py [--members 50000] [--sales 500000]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_reports]
        [--sqlite /tmp/bench-reports.sqlite3]

Creates a fresh database (PostgreSQL by default; --sqlite FILE for the embedded one), N members
(bulk_register, joined over three years), M sales spread over three years (multi-row inserts,
a fifth of them walk-ins, no ledger postings), then times `insight.dashboard.dashboard` for
the last 30 days, the last year and the last three years, and each of its parts for the year.
The PostgreSQL database is dropped at the end. Prints figures and the load average;
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from benchdb import (
    drop_postgres,
    fresh_postgres,
    insert_sales,
    load_average,
    migrated_django,
    timed,
)


def setup(args: argparse.Namespace) -> None:
    if args.sqlite:
        Path(args.sqlite).unlink(missing_ok=True)
        url = f"sqlite:///{args.sqlite}"
    else:
        url = fresh_postgres(args.pg, args.database)
    migrated_django(url, "bench-reports")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--sales", type=int, default=500_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_reports")
    parser.add_argument("--sqlite", default="")
    args = parser.parse_args()
    setup(args)

    from django.db import connection, transaction
    from django.utils import timezone

    from patron.insight import dashboard as figures
    from patron.members.models import Channel, Member
    from patron.members.services import bulk_register
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store

    print(f"database: {connection.vendor}")
    merchant = create_merchant("bench", "Bench")
    actor = Actor.system(merchant)
    stores = [create_store(actor, f"S{n}", f"店{n}") for n in range(1, 6)]
    rng = random.Random(7)
    now = timezone.now()
    span = 3 * 365 * 24 * 60  # minutes
    rows = [
        {
            "mobile": f"139{n:08d}",
            "name": f"会员{n}",
            "store": stores[n % 5],
            "joined_at": now - dt.timedelta(minutes=rng.randint(1, span)),
        }
        for n in range(args.members)
    ]
    with transaction.atomic():
        timed(
            f"register {args.members:,} members",
            lambda: bulk_register(actor, rows, channel=Channel.IMPORT),
        )
    members = list(Member.objects.filter(merchant=merchant).values_list("pk", flat=True))

    timed(
        f"insert {args.sales:,} sales",
        lambda: insert_sales(
            merchant,
            stores,
            members,
            args.sales,
            now=now,
            span_minutes=span,
            rng=rng,
            walk_in_share=0.2,
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    today = now.astimezone(figures.merchant_zone(actor)).date()
    for days in (30, 365, 3 * 365):
        window = figures.window_for(actor, today - dt.timedelta(days=days - 1), today)
        timed(
            f"dashboard, last {days} days ({window.granularity})",
            lambda w=window: figures.dashboard(actor, w),
        )
    year = figures.window_for(actor, today - dt.timedelta(days=364), today)
    spend = timed("  member spend (Pareto, active)", lambda: figures.member_spend(actor, year))
    print(f"    {len(spend):,} buying members")
    timed("  sales figures", lambda: figures.sales_figures(actor, year))
    timed("  repeat buyers", lambda: figures.repeat_buyers(actor, year))
    timed("  lifecycle mix", lambda: figures.lifecycle_mix(actor, year))
    timed("  store ranking", lambda: figures.store_ranking(actor, year))
    timed("  staff ranking", lambda: figures.staff_ranking(actor, year))
    timed("  series (weeks)", lambda: figures.series(actor, year))
    timed("  coupons", lambda: figures.coupon_figures(actor, year))
    timed("  liabilities", lambda: figures.liability_figures(actor, year))
    timed("  diagnosis", lambda: figures.diagnosis(actor, year))
    one = figures.window_for(actor, today - dt.timedelta(days=364), today, "S1")
    timed("dashboard, last 365 days, store S1", lambda: figures.dashboard(actor, one))
    print(f"load average {load_average()}")
    if not args.sqlite:
        drop_postgres(args.pg, args.database)


if __name__ == "__main__":
    main()
