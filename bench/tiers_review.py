"""The nightly tier review at scale: 100,000 members with a year of sales, on PostgreSQL.

    .venv/bin/python bench/tiers_review.py [--members 100000] [--sales 300000]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_tiers]

Creates a fresh database, the program of tests/cards/tiers_support.py (normal, silver with
keep_when, gold), N members (bulk_register) and --sales sales spread over 15 months (multi-row
inserts; no ledger postings: the ledger's GROUP BY still runs, over top-ups only), then times
`cards.tiers.facts` (the set-based figures), a first review (many upgrades, moved in bulk by
`promotions.services.move_members` with their TierChange and audit rows), a second review
(nothing moves) and the editor's preview count. The PostgreSQL database is dropped at the
end. Prints figures and the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random

from benchdb import (
    drop_postgres,
    fresh_postgres,
    insert_sales,
    load_average,
    migrated_django,
    timed,
)


def setup(pg: str, database: str) -> None:
    migrated_django(fresh_postgres(pg, database), "bench-tiers")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=300_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_tiers")
    args = parser.parse_args()
    setup(args.pg, args.database)

    from django.db import connection, transaction
    from django.utils import timezone

    from patron.cards import tiers
    from patron.members.models import Channel
    from patron.members.services import bulk_register
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Store
    from patron.tenancy.services import create_merchant, create_store
    from tests.cards.tiers_support import setup as program

    merchant = create_merchant("bench", "Bench")
    actor = Actor.system(merchant)
    create_store(actor, "S1", "店")
    program(actor)
    store = Store.objects.get(merchant=merchant)
    rows = [
        {"mobile": f"139{n:08d}", "name": f"会员{n}", "store": store} for n in range(args.members)
    ]
    with transaction.atomic():
        members = timed(
            "register members",
            lambda: list(
                bulk_register(actor, rows, channel=Channel.IMPORT).values_list("pk", flat=True)
            ),
        )
    rng = random.Random(7)
    now = timezone.now()

    timed(
        f"insert {args.sales:,} sales",
        lambda: insert_sales(
            merchant,
            [store],
            members,
            args.sales,
            now=now,
            span_minutes=456 * 24 * 60,
            rng=rng,
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    figures = timed("facts (set-based, whole merchant)", lambda: tiers.facts(merchant))
    print(f"  members with figures: {len(figures):,}")
    first = timed("first review (upgrades)", lambda: tiers.review(merchant))
    print(f"  {first.members:,} reviewed, {first.upgraded:,} up, {first.grace_started:,} grace")
    second = timed("second review (nothing moves)", lambda: tiers.review(merchant))
    print(f"  {second.upgraded} up, {second.downgraded} down")
    later = now + dt.timedelta(days=200)
    third = timed(
        "review 200 days later (grace, downgrades)", lambda: tiers.review(merchant, later)
    )
    print(f"  {third.downgraded:,} down, {third.grace_started:,} grace started")
    engine = tiers.merchant_rules(merchant).engine
    counts = timed("editor preview counts", lambda: tiers.counts_under(merchant, engine))
    print(f"  {dict(counts)}")
    print(f"load average {load_average()}")
    drop_postgres(args.pg, args.database)


if __name__ == "__main__":
    main()
