"""Benchmark: `patron import sales` of 100,000 rows, and the facets rebuild over 1,000,000 lines.

    .venv/bin/python bench/import_sales.py [--rows 100000] [--lines 1000000]
        [--members 20000] [--backend both|sqlite|pg]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_history]

For each backend (a fresh SQLite file in a temporary directory; a fresh PostgreSQL database):
a merchant with 5 stores and --members members, a CSV of --rows past sales over two years
(by mobile, a few categories, SKUs, quantities), imported through the service the CLI uses
(rows/s printed), imported again (nothing new), then sale lines added directly up to --lines
and every facet of the merchant rebuilt (`history_facets.rebuild_facets`, the refresh step).
Each backend runs in its own process; the PostgreSQL database is dropped at the end. Prints
figures and the load average; asserts nothing. Figures are kept in
docs/history-import.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORES = ["S1", "S2", "S3", "S4", "S5"]
CATEGORIES = {
    "coffee": (["LATTE", "AMERICANO", "MOCHA"], 2800),
    "tea": (["OOLONG", "LONGJING"], 1800),
    "bakery": (["CROISSANT", "BAGEL", "MUFFIN"], 1500),
    "beans": (["BEANS-250G", "BEANS-1KG"], 8800),
    "gifts": (["MUG", "TUMBLER"], 12800),
}


def setup_django(backend: str, pg: str, database: str, work: Path) -> None:
    os.environ["PATRON_DATA_DIR"] = str(work / "data")
    if backend == "pg":
        import psycopg

        with psycopg.connect(pg.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        os.environ["PATRON_DATABASE_URL"] = pg.rstrip("/") + "/" + database
    else:
        os.environ["PATRON_DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(label: str, fn):
    """Run fn; print wall-clock and this process's CPU seconds (the machine is shared, so the
    CPU figure says more about the code; the database server's CPU is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label:<46} {seconds:8.2f} s wall {cpu:8.2f} s CPU", flush=True)
    return result, seconds


def mobiles(count: int) -> list[str]:
    return [f"139{n:08d}" for n in range(count)]


def sale_rows(count: int, members: list[str], seed: int = 16) -> list[list[object]]:
    rng = random.Random(seed)
    today = dt.date.today()
    rows = []
    names = list(CATEGORIES)
    for _n in range(count):
        category = rng.choice(names)
        skus, price = CATEGORIES[category]
        quantity = rng.choice([1, 1, 1, 2, 3])
        day = today - dt.timedelta(days=rng.randint(1, 730))
        moment = f"{day.isoformat()} {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}"
        rows.append(
            [
                rng.choice(members),
                moment if rng.random() < 0.7 else day.isoformat(),
                rng.choice(STORES),
                rng.choice(skus),
                category,
                quantity,
                price * quantity,
            ]
        )
    return rows


def write_csv(rows: list[list[object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["mobile", "occurred_at", "store", "sku", "category", "quantity", "amount"])
        writer.writerows(rows)


def defaults(model, given: list[str]) -> tuple[list[str], tuple]:
    """The model's other NOT NULL columns and their defaults ("" for text, else the default),
    in the database's form."""
    from django.db import connection

    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in given and f.name not in given and not f.null and not f.primary_key
    ]
    values = tuple(f.get_db_prep_save(f.get_default(), connection) for f in fields)
    return [f.attname for f in fields], values


def add_lines(merchant, member_ids: list[int], stores: list, count: int) -> None:
    """`count` more one-line sales written directly (no import checks): the facets' input."""
    from django.db import connection
    from django.utils import timezone

    from patron.insight.history_facets import insert_rows, moment_writer
    from patron.sales.models import Sale, SaleLine

    rng = random.Random(99)
    now = timezone.now()
    # Values in the database's form up front (the import's own way): converting a million
    # moments through the model fields cost more than the inserts.
    moment = moment_writer()
    start = (Sale.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    names = list(CATEGORIES)
    sales, lines = [], []
    for n in range(count):
        category = rng.choice(names)
        skus, price = CATEGORIES[category]
        quantity = rng.choice([1, 1, 2])
        at = moment(now - dt.timedelta(minutes=rng.randint(60, 730 * 24 * 60)))
        store = rng.choice(stores)
        total = price * quantity
        pk = start + n
        sales.append(
            (pk, merchant.pk, rng.choice(member_ids), store.pk, "import", f"bench-{pk}", at, at)
            + (total, 0, total)
        )
        lines.append(
            (pk, merchant.pk, 0, rng.choice(skus), category, quantity, price, price, 0, total)
            + (store.pk, at, rng.choice(["S", "M", "L", ""]), rng.choice(["红", "黑", ""]))
        )
    sale_columns = ["id", "merchant_id", "member_id", "store_id", "channel", "idempotency_key"]
    sale_columns += ["occurred_at", "created_at", "subtotal", "discount", "total"]
    extra, values = defaults(Sale, sale_columns)
    insert_rows(Sale, sale_columns + extra, (row + values for row in sales), 10_000)
    line_columns = ["sale_id", "merchant_id", "position", "sku", "category", "quantity"]
    line_columns += ["unit_price", "member_price", "discount", "total", "store_id"]
    line_columns += ["occurred_at", "size", "colour"]
    extra, values = defaults(SaleLine, line_columns)
    insert_rows(SaleLine, line_columns + extra, (row + values for row in lines), 10_000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('sales_sale', 'id'), MAX(id)) FROM sales_sale"
            )
            cursor.execute("VACUUM ANALYZE")


def run(backend: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sales-import-") as tmp:
        work = Path(tmp)
        setup_django(backend, args.pg, args.database, work)
        from django.db import transaction

        from patron.insight.history import import_sales
        from patron.insight.history_facets import rebuild_facets
        from patron.insight.models import MemberFacet
        from patron.members.models import Channel
        from patron.members.services import bulk_register
        from patron.sales.models import SaleLine
        from patron.tenancy.actor import Actor
        from patron.tenancy.services import create_merchant, create_store

        print(f"{backend}:", flush=True)
        merchant = create_merchant("bench", "Bench")
        actor = Actor.system(merchant)
        stores = [create_store(actor, code, f"{code} 店") for code in STORES]
        numbers = mobiles(args.members)
        rows = [{"mobile": m, "store": stores[n % 5]} for n, m in enumerate(numbers)]
        with transaction.atomic():
            member_ids = list(
                bulk_register(actor, rows, channel=Channel.IMPORT).values_list("pk", flat=True)
            )
        path = work / "history.csv"
        write_csv(sale_rows(args.rows, numbers), path)
        result, seconds = timed(
            f"import {args.rows:,} rows", lambda: import_sales(actor, path, file_name=path.name)
        )
        print(f"    {result.imported:,} sales, {args.rows / seconds:,.0f} rows/s; {result.facets}")
        again, seconds = timed(
            "import the same file again", lambda: import_sales(actor, path, file_name=path.name)
        )
        rate = args.rows / seconds
        print(f"    {again.imported} new, {again.already:,} already; {rate:,.0f} rows/s")
        more = max(args.lines - SaleLine.objects.count(), 0)
        timed(f"add {more:,} lines directly", lambda: add_lines(merchant, member_ids, stores, more))
        lines = SaleLine.objects.count()
        summary, seconds = timed(
            f"rebuild all facets ({lines:,} lines)", lambda: rebuild_facets(merchant)
        )
        print(f"    {summary}; {lines / seconds:,.0f} lines/s")
        print(f"    facets stored: {MemberFacet.objects.count():,}", flush=True)
        print(f"  load average {' / '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    if backend == "pg":
        drop_database(args.pg, args.database)


def drop_database(pg: str, database: str) -> None:
    """The bench's PostgreSQL database is its own: dropped once the figures are printed."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(pg.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--backend", choices=["both", "sqlite", "pg"], default="both")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_history")
    args = parser.parse_args()
    if args.backend != "both":
        run(args.backend, args)
        return
    for backend in ("sqlite", "pg"):  # one process each: Django sets up one database
        argv = [a for a in sys.argv[1:] if not a.startswith("--backend")]
        subprocess.run([sys.executable, __file__, *argv, "--backend", backend], check=True)


if __name__ == "__main__":
    main()
