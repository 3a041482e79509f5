"""Ledger throughput: the service layer against a bare psycopg loop of the same SQL.

    .venv/bin/python bench/ledger.py [--transfers 20000] [--pg postgres://postgres@127.0.0.1:5432/]

Each transfer is a stored-value top-up of one member (two entries: member principal +,
merchant cash -), committed on its own, as a till would. The bare loop sends the statements
the service sends for it (read the merchant's policy and the two accounts, insert the
transaction under a savepoint, one guarded UPDATE that locks and moves the member balance,
insert the two entries) with nothing else; batches of the two alternate so load drift on a
shared machine hits both alike. Prints transfers/s for both, their ratio
(target: service >= 1/3 of bare), and the service rate on SQLite. Not a test: nothing is
asserted, figures are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(database_url: str, data_dir: str) -> None:
    os.environ["PATRON_DATABASE_URL"] = database_url
    os.environ["PATRON_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def recreate_postgres_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server + name


def setup_members(count: int):
    from patron.members.services import bulk_register
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant

    merchant = create_merchant(f"bench{int(time.time())}", "Bench")
    actor = Actor.system(merchant)
    rows = [{"mobile": f"139{i:08d}"} for i in range(count)]
    members = bulk_register(actor, rows, channel="import")
    return actor, members


def warm_up(actor, members, label: str) -> None:
    """Accounts exist and code paths are loaded, as in a shop that is already running."""
    from patron.ledger import services

    for member in members:
        services.top_up(actor, member, 1, key=f"{label}-warm-{member.pk}")


def service_batch(actor, members, start: int, count: int, label: str) -> float:
    from patron.ledger import services

    began = time.perf_counter()
    for n in range(start, start + count):
        services.top_up(actor, members[n % len(members)], 100, key=f"{label}-{n}")
    return time.perf_counter() - began


class BareLoop:
    """The same statements, hand-written, on one psycopg connection."""

    def __init__(self, database_url: str, actor, members) -> None:
        import psycopg

        from patron.ledger.models import Account, Asset

        self.asset = Asset.PRINCIPAL
        self.accounts = {
            a.member_id: a.pk
            for a in Account.objects.filter(member__in=members, asset=Asset.PRINCIPAL)
        }
        self.merchant_id = actor.merchant.pk
        self.cash = Account.objects.get(
            merchant=actor.merchant, system_code="cash", asset=Asset.PRINCIPAL
        ).pk
        self.members = members
        self.conn = psycopg.connect(database_url)

    def batch(self, start: int, count: int) -> float:
        conn, asset = self.conn, self.asset
        began = time.perf_counter()
        for n in range(start, start + count):
            member = self.members[n % len(self.members)]
            account = self.accounts[member.pk]
            with conn.transaction():
                conn.execute(
                    "SELECT * FROM ledger_ledgerpolicy WHERE merchant_id = %s",
                    (self.merchant_id,),
                ).fetchall()
                conn.execute(
                    "SELECT id FROM ledger_account WHERE merchant_id = %s AND "
                    "((owner_type = 'member' AND member_id = %s AND asset = %s) OR "
                    "(owner_type = 'system' AND system_code = 'cash' AND asset = %s))",
                    (self.merchant_id, member.pk, asset, asset),
                ).fetchall()
                conn.execute("SAVEPOINT txn")
                txn_id = conn.execute(
                    "INSERT INTO ledger_transaction (merchant_id, kind, idempotency_key, "
                    "member_id, channel, reason, source, source_ref, occurred_at, created_at) "
                    "VALUES (%s, 'topup', %s, %s, 'cli', 'cash', 'topup', '', now(), now()) "
                    "RETURNING id",
                    (self.merchant_id, f"bare-{n}", member.pk),
                ).fetchone()[0]
                conn.execute("RELEASE SAVEPOINT txn")
                moved = conn.execute(
                    "UPDATE ledger_account SET balance = balance + 100 "
                    "WHERE id = %s AND balance >= -100",
                    (account,),
                ).rowcount
                assert moved == 1
                conn.execute(
                    "INSERT INTO ledger_entry (transaction_id, account_id, asset, amount, "
                    "member_id, occurred_at) VALUES (%s, %s, %s, 100, %s, now()), "
                    "(%s, %s, %s, -100, NULL, now())",
                    (txn_id, account, asset, member.pk, txn_id, self.cash, asset),
                )
        return time.perf_counter() - began


def interleaved(transfers: int, batch: int, service, bare) -> tuple[float, float]:
    """Alternate batches so the machine's load drifts over both runs alike."""
    service_time = bare_time = 0.0
    for start in range(0, transfers, batch):
        count = min(batch, transfers - start)
        service_time += service(start, count)
        bare_time += bare(start, count)
    return transfers / service_time, transfers / bare_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=20000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="patron-bench-")
    if args.sqlite_only:
        configure(f"sqlite:///{data_dir}/bench.sqlite3", data_dir)
        actor, members = setup_members(args.members)
        warm_up(actor, members, "sqlite")
        rate = args.transfers / service_batch(actor, members, 0, args.transfers, "sqlite")
        print(f"SQLite service layer: {rate:,.0f} transfers/s ({args.transfers:,} transfers)")
        return
    url = recreate_postgres_database(args.pg, "patron_bench_ledger")
    configure(url, data_dir)
    actor, members = setup_members(args.members)
    from patron.ledger.selectors import reconcile

    warm_up(actor, members, "svc")
    bare = BareLoop(url, actor, members)
    service_rate, bare_rate = interleaved(
        args.transfers,
        500,
        lambda start, count: service_batch(actor, members, start, count, "svc"),
        bare.batch,
    )
    differences = reconcile(actor.merchant)
    print(f"PostgreSQL service layer: {service_rate:,.0f} transfers/s ({args.transfers:,})")
    print(f"PostgreSQL bare psycopg : {bare_rate:,.0f} transfers/s (same statements)")
    print(f"ratio service/bare      : {service_rate / bare_rate:.2f} (target >= 0.33)")
    print(f"reconcile after both    : {len(differences)} differences")
    # SQLite in a child process: Django is configured once per process.
    import subprocess

    subprocess.run(
        [
            sys.executable,
            __file__,
            "--sqlite-only",
            "--transfers",
            str(args.transfers),
            "--members",
            str(args.members),
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
