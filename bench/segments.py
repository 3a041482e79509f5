"""Counting segments over 1,000,000 members on PostgreSQL (F-29; target < 1 s).

    .venv/bin/python bench/segments.py [--members 1000000] [--runs 5]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_segments]
        [--keep] [--reuse]

Creates a fresh database, one merchant with 3 stores and 3 tiers, N members with a
MemberInsight and a MemberStats row each (generate_series SQL, no Python per row), analyses
them, then for ~8 typical filters times the count through the filter language
(`insight.segments.count_members`: on the MemberInsight or MemberStats rows alone when the
filter reads only that table, else members joined to them) and the same count written by
hand in plain SQL, in the same run: p50 / p95 over --runs runs and the ratio, then the
EXPLAIN (ANALYZE) of each. Drops the database at the end (unless --keep; --reuse counts on
what a --keep run left). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FILTERS = [
    (
        "profile: women 25-40",
        {
            "all": [
                {"field": "gender", "op": "eq", "value": "F"},
                {"field": "age", "op": "between", "value": [25, 40]},
            ]
        },
        "SELECT count(*) FROM members_member m WHERE m.merchant_id = %(mid)s AND m.gender = 'F'"
        " AND m.birthday > (current_date - interval '41 years')::date"
        " AND m.birthday <= (current_date - interval '25 years')::date",
    ),
    (
        "tier: gold",
        {"all": [{"field": "tier", "op": "eq", "value": "gold"}]},
        "SELECT count(*) FROM members_member m WHERE m.merchant_id = %(mid)s"
        " AND m.tier_id = %(gold)s",
    ),
    (
        "lifecycle: dormant",
        {"all": [{"field": "lifecycle", "op": "eq", "value": "dormant"}]},
        "SELECT count(*) FROM insight_memberinsight i"
        " WHERE i.merchant_id = %(mid)s AND i.lifecycle = 'dormant'",
    ),
    (
        "RFM cell 555",
        {"all": [{"field": "rfm", "op": "eq", "value": "555"}]},
        "SELECT count(*) FROM insight_memberinsight i"
        " WHERE i.merchant_id = %(mid)s AND i.rfm = '555'",
    ),
    (
        "spend_12m 1000-5000 yuan",
        {"all": [{"field": "spend_12m", "op": "between", "value": [100000, 500000]}]},
        "SELECT count(*) FROM insight_memberinsight i"
        " WHERE i.merchant_id = %(mid)s AND i.spend_12m BETWEEN 100000 AND 500000",
    ),
    (
        "visits_12m >= 12",
        {"all": [{"field": "visits_12m", "op": "gte", "value": 12}]},
        "SELECT count(*) FROM insight_memberinsight i"
        " WHERE i.merchant_id = %(mid)s AND i.visits_12m >= 12",
    ),
    (
        "last_visit_days >= 180",
        {"all": [{"field": "last_visit_days", "op": "gte", "value": 180}]},
        "SELECT count(*) FROM sales_memberstats s"
        " WHERE s.merchant_id = %(mid)s AND s.last_visit_at < date_trunc('day', now()"
        " AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' - interval '179 days'",
    ),
    (
        "combination",
        {
            "all": [
                {"field": "store", "op": "eq", "value": "S1"},
                {"field": "lifecycle", "op": "in", "value": ["active", "excited"]},
                {
                    "any": [
                        {"field": "m", "op": "gte", "value": 4},
                        {"field": "visits_12m", "op": "gte", "value": 10},
                    ]
                },
            ]
        },
        "SELECT count(*) FROM members_member m JOIN insight_memberinsight i ON i.member_id = m.id"
        " WHERE m.merchant_id = %(mid)s AND m.store_id = %(s1)s"
        " AND i.lifecycle IN ('active', 'excited') AND (i.m >= 4 OR i.visits_12m >= 10)",
    ),
]


def setup(pg: str, database: str, reuse: bool) -> None:
    import psycopg

    if not reuse:
        with psycopg.connect(pg.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["PATRON_DATABASE_URL"] = pg.rstrip("/") + "/" + database
    os.environ.setdefault("PATRON_DATA_DIR", str(ROOT / "var" / "bench-segments"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop(pg: str, database: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(pg.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def populate(merchant, stores: dict, tiers: dict, n: int) -> None:
    """Members, their insight and stats rows: a spread of genders, ages, stores, tiers,
    lifecycles, RFM scores and 12-month figures, by generate_series in the database."""
    from django.db import connection

    params = {
        "mid": merchant.pk,
        "n": n,
        "s1": stores["S1"].pk,
        "s2": stores["S2"].pk,
        "s3": stores["S3"].pk,
        "silver": tiers["silver"].pk,
        "gold": tiers["gold"].pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO members_member (merchant_id, card_no, mobile, name, name_pinyin, gender,
                birthday, lunar_birthday, id_number, email, region, address, occupation,
                income_band, consent_sms, consent_wechat, consent_email, source_channel,
                store_id, referral_code, status, tier_id, custom, joined_at, created_at,
                updated_at)
            SELECT %(mid)s, (8000000000 + g)::text, (13000000000 + g)::text, 'M' || g, '',
                (ARRAY['F', 'M', 'U'])[1 + g %% 3],
                CASE WHEN g %% 10 = 0 THEN NULL
                     ELSE date '1950-01-01' + (g::bigint * 7919 %% 20000)::int END,
                '', '', '', (ARRAY['杭州', '上海', '宁波', '苏州'])[1 + g %% 4], '', '', '',
                g %% 2 = 0, g %% 3 = 0, g %% 5 = 0, 'till',
                (ARRAY[%(s1)s, %(s2)s, %(s3)s])[1 + g %% 3]::bigint,
                'R' || g, 'active',
                CASE WHEN g %% 10 = 0 THEN %(gold)s WHEN g %% 4 = 0 THEN %(silver)s END,
                '{}', now() - (g %% 1500) * interval '1 day', now(), now()
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO insight_memberinsight (member_id, merchant_id, spend_12m, visits_12m,
                cycle_days, purchase_days, last_purchase_at, lifecycle, r, f, m, rfm, p_alive,
                computed_at)
            SELECT id, merchant_id, (id::bigint * 7907) %% 2000000, (id * 31) %% 40, 30,
                1 + id %% 50, now() - ((id * 17) %% 720) * interval '1 day',
                (ARRAY['excited', 'active', 'inert', 'dormant'])[1 + (id * 13) %% 4],
                1 + id %% 5, 1 + (id / 5) %% 5, 1 + (id / 25) %% 5,
                (1 + id %% 5)::text || (1 + (id / 5) %% 5)::text || (1 + (id / 25) %% 5)::text,
                ((id * 37) %% 1000) / 1000.0, now()
            FROM members_member WHERE merchant_id = %(mid)s
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO sales_memberstats (member_id, merchant_id, total_spend, visits, refunds,
                first_visit_at, last_visit_at, average_ticket, points_earned, saved, updated_at)
            SELECT id, merchant_id, (id::bigint * 7907) %% 3000000, 1 + id %% 50, 0,
                now() - interval '800 days', now() - ((id * 17) %% 720) * interval '1 day',
                (id::bigint * 101) %% 100000, 0, 0, now()
            FROM members_member WHERE merchant_id = %(mid)s
            """,
            params,
        )
    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # PostgreSQL answer a count from an index alone.
    with connection.cursor() as cursor:
        connection.ensure_connection()
        cursor.execute("VACUUM ANALYZE members_member")
        cursor.execute("VACUUM ANALYZE insight_memberinsight")
        cursor.execute("VACUUM ANALYZE sales_memberstats")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_segments")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument(
        "--reuse", action="store_true", help="count on the members a --keep run left"
    )
    args = parser.parse_args()
    timed("create database and migrate", lambda: setup(args.pg, args.database, args.reuse))

    from django.db import connection

    from patron.insight import segments
    from patron.insight.filters import row_count_filter
    from patron.promotions.models import Tier
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant, Store
    from patron.tenancy.services import create_merchant, create_store

    if args.reuse:
        merchant = Merchant.objects.get(slug="bench")
        stores = {s.code: s for s in Store.objects.filter(merchant=merchant)}
        tiers = {t.code: t for t in Tier.objects.filter(merchant=merchant)}
    else:
        merchant = create_merchant("bench", "Bench")
        setup_actor = Actor.system(merchant)
        stores = {code: create_store(setup_actor, code, code) for code in ("S1", "S2", "S3")}
        tiers = {
            code: Tier.objects.create(merchant=merchant, code=code, name=code, rank=rank)
            for rank, code in enumerate(("normal", "silver", "gold"))
        }
        timed(
            f"insert {args.members:,} members + insight + stats",
            lambda: populate(merchant, stores, tiers, args.members),
        )
    actor = Actor.system(merchant)
    params = {"mid": merchant.pk, "gold": tiers["gold"].pk, "s1": stores["S1"].pk}

    print(f"\n{'filter':<28} {'count':>9} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8} {'ratio':>6}")
    plans = []
    for label, node, sql in FILTERS:
        # The query count_members runs: on the insight rows alone when the filter allows.
        on_rows = row_count_filter(merchant, node)
        queryset = (
            on_rows[0].objects.filter(merchant=merchant).filter(on_rows[1])
            if on_rows is not None
            else segments.segment_members(actor, node)
        )
        ours, plain = [], []
        count = expected = 0
        for _ in range(args.runs):
            start = time.perf_counter()
            count = segments.count_members(actor, node)
            ours.append(time.perf_counter() - start)
            with connection.cursor() as cursor:
                start = time.perf_counter()
                cursor.execute(sql, params)
                expected = cursor.fetchone()[0]
                plain.append(time.perf_counter() - start)
        p50, p95, sql50 = (
            statistics.median(ours) * 1000,
            percentile(ours, 0.95) * 1000,
            statistics.median(plain) * 1000,
        )
        same = "" if count == expected else f"  (plain SQL counts {expected})"
        print(
            f"{label:<28} {count:>9,} {p50:>8.0f} {p95:>8.0f} {sql50:>8.0f} {p50 / sql50:>6.2f}"
            f"{same}"
        )
        compiled, values = queryset.order_by().values("pk").query.sql_with_params()
        counted_on = on_rows[0]._meta.db_table if on_rows is not None else "members joined"
        label = f"{label} (counted on {counted_on})"
        count_sql = f"SELECT count(*) FROM ({compiled}) AS segment"
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF) {count_sql}", values)
            plans.append((label, [row[0] for row in cursor.fetchall()]))
    print(f"\nload average {' / '.join(f'{value:.2f}' for value in os.getloadavg())}")
    for label, plan in plans:
        print(f"\n--- EXPLAIN ANALYZE: {label}")
        print("\n".join(plan))
    if not args.keep:
        drop(args.pg, args.database)


if __name__ == "__main__":
    main()
