"""What several benchmarks share: a fresh database of their own, Django set up on it, and a
timer that prints one line per figure."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_postgres(server: str, database: str) -> str:
    """Drop and create `database` on the PostgreSQL `server` URL; its URL."""
    import psycopg

    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    return server.rstrip("/") + "/" + database


def drop_postgres(server: str, database: str) -> None:
    """Drop the bench's own `database` once its figures are printed (Django's connections
    closed first)."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')


def migrated_django(database_url: str, data_dir: str) -> None:
    """Django on `database_url` with every migration applied."""
    os.environ["PATRON_DATABASE_URL"] = database_url
    os.environ.setdefault("PATRON_DATA_DIR", str(ROOT / "var" / data_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def insert_sales(
    merchant,
    stores: list,
    members: list[int],
    count: int,
    *,
    now,
    span_minutes: int,
    rng,
    walk_in_share: float = 0.0,
) -> None:
    """`count` completed sales in the `span_minutes` before `now`: totals drawn lognormal
    (median about ¥220), each of a random member of `members` (a `walk_in_share` of them
    without one) in a random store of `stores`. Multi-row inserts of 10,000 (bulk_create),
    no lines and no ledger postings: the figures the benches read come from the sales."""
    from patron.sales.models import Sale

    batch = []
    for n in range(count):
        total = int(rng.lognormvariate(10, 1))
        member = rng.choice(members) if rng.random() < 1 - walk_in_share else None
        batch.append(
            Sale(
                merchant=merchant,
                member_id=member,
                store=stores[rng.randrange(len(stores))],
                idempotency_key=f"bench-{n}",
                occurred_at=now - dt.timedelta(minutes=rng.randint(1, span_minutes)),
                subtotal=total,
                discount=0,
                total=total,
            )
        )
        if len(batch) == 10_000:
            Sale.objects.bulk_create(batch)
            batch = []
    Sale.objects.bulk_create(batch)


def load_average() -> str:
    """The machine's 1 / 5 / 15 minute load: it is shared, so every figure says it."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())
