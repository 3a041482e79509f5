"""A million members on PostgreSQL: search, the console's lists and the import (issue 21).

    .venv/bin/python bench/scale.py [--members 1000000] [--samples 20]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_scale] [--reuse]

1. Builds the million: one merchant `bench` with 5 stores, an HQ user and an API key; a
   generated members file (手机号, 姓名, 性别, 门店, 地区, 地址) imported by `patron import
   members` as a subprocess (wall time and the child's peak RSS; when the one file is refused,
   it says so and imports the file in parts so the rest can run); then, by INSERT ... SELECT
   FROM generate_series in the database, physical cards for one member in ten, a points ledger
   (a third of the members with 1-5 earnings, twenty with hundreds), audit entries (two per
   member) and sales over two years (one per member, some today).
   --reuse keeps the database and uses it again when it holds the same --members (the import
   figures are then those measured when it was built).
2. In process through Django's test Client (the API with an API key, the console logged in as
   HQ): p50 / p95 ms of each search of GET /api/v1/members and each console page's first page,
   over --samples requests with varied queries; beside each, a hand-written SQL statement that
   returns the same page, timed the same way, and the ratio Patron / plain SQL.
3. The EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of any search or page that misses
   its target (search 100 ms p95, pages 150 ms p95).

A page that answers other than 200 is reported with its status, not a crash. Prints figures;
asserts nothing. docs/scale.md keeps the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEARCH_TARGET_MS = 100
PAGE_TARGET_MS = 150
PAGE_SIZE = 50
MERCHANT = "bench"
STORES = ["S1", "S2", "S3", "S4", "S5"]
# Rows per file when the one-file import is refused (main refused files over 64 MB).
PART_ROWS = 400_000
# pg_database.datconnlimit of a database whose DROP was interrupted (PostgreSQL 15.4+).
INVALID_DATABASE = -2

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉婷雪琳晨欣怡浩宇轩子涵"
    "梓睿思雨佳嘉俊博文"
)
PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "186"]
REGIONS = ["浙江省杭州市", "江苏省南京市", "广东省深圳市", "四川省成都市", "湖北省武汉市", "上海市"]
STREETS = ["北山街", "南山路", "延安路", "解放路", "中山北路", "人民大道", "建国路"]
# Pinyin of the commonest surnames and initials of common two- and three-character names.
PINYIN_FULL = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou"]
PINYIN_INITIALS = ["zs", "wf", "lj", "zw", "cm", "yl", "hj", "wy", "lh", "zm"]


# --- building the million --------------------------------------------------------------------


def configure(database_url: str) -> None:
    os.environ["PATRON_DATABASE_URL"] = database_url
    os.environ.setdefault("PATRON_DATA_DIR", str(ROOT / "var" / "bench-scale"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def server_connection(pg: str):
    import psycopg

    return psycopg.connect(pg.rstrip("/") + "/postgres", autocommit=True)


def built_with(pg: str, database: str) -> dict | None:
    """What a kept database was built with (its comment), None when there is none."""
    with server_connection(pg) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database,),
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def remember_build(pg: str, database: str, build: dict) -> None:
    with server_connection(pg) as conn:
        comment = json.dumps(build).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{comment}'")


def exists(pg: str, database: str) -> bool:
    with server_connection(pg) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        return found.fetchone() is not None


def emptied(pg: str, database: str) -> None:
    """Every table gone, the database kept. DROP DATABASE waits until every backend of the
    server has answered a signal, which one stuck in another database's COPY never does; this
    waits for nobody."""
    import psycopg

    with psycopg.connect(pg.rstrip("/") + "/" + database, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute(f'COMMENT ON DATABASE "{database}" IS NULL')


def recreate(pg: str, database: str) -> None:
    with server_connection(pg) as conn:
        row = conn.execute(
            "SELECT datconnlimit FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if row is not None and row[0] == INVALID_DATABASE:
            print(f"  dropping {database}, left invalid by a DROP that did not finish ...")
            conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            row = None
        if row is None:
            conn.execute(f'CREATE DATABASE "{database}"')
            return
    emptied(pg, database)


def drop(pg: str, database: str) -> None:
    """Empty the bench's database (which frees its space at once), then drop it; when the
    server cannot drop it within a minute (see `emptied`), say so."""
    import psycopg
    from django.db import connections

    connections.close_all()
    emptied(pg, database)
    try:
        with server_connection(pg) as conn:
            conn.execute("SET statement_timeout = '60s'")
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    except psycopg.errors.QueryCanceled:
        print(f"{database} is emptied but not dropped (another session holds the server up);")
        print(f"drop it later: dropdb -h 127.0.0.1 -U postgres {database}")


def write_members_file(path: Path, n: int) -> None:
    """`n` members with distinct mobiles, like the acceptance check's file (plus a gender)."""
    rng = random.Random(20261206)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["手机号", "姓名", "性别", "门店", "地区", "地址"])
        while len(seen) < n:
            mobile = rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"
            if mobile in seen:
                continue
            seen.add(mobile)
            given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            address = (
                f"{rng.choice(STREETS)}{rng.randrange(1, 999)}号"
                f"{rng.randrange(1, 30)}幢{rng.randrange(101, 2999)}室"
            )
            out.writerow(
                [
                    mobile,
                    rng.choice(SURNAMES) + given,
                    rng.choice("男女"),
                    rng.choice(STORES),
                    rng.choice(REGIONS),
                    address,
                ]
            )


def split_file(path: Path, rows: int) -> list[Path]:
    parts: list[Path] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        out = None
        for number, row in enumerate(reader):
            if number % rows == 0:
                if out is not None:
                    out[0].close()
                part = path.with_name(f"{path.stem}-{len(parts) + 1}.csv")
                handle = part.open("w", encoding="utf-8", newline="")
                out = (handle, csv.writer(handle))
                out[1].writerow(header)
                parts.append(part)
            out[1].writerow(row)
        if out is not None:
            out[0].close()
    return parts


def import_file(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "patron"), "import", "members", str(path)]
        + ["--merchant", MERCHANT],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )


def import_members(n: int) -> dict:
    """The members file through `patron import members`: seconds, peak RSS of the child,
    and how it went (one file, or parts after the one file was refused)."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        path = Path(work) / "members.csv"
        write_members_file(path, n)
        megabytes = path.stat().st_size / 2**20
        start = time.perf_counter()
        done = import_file(path)
        seconds = time.perf_counter() - start
        result = {"rows": n, "megabytes": round(megabytes), "seconds": round(seconds, 1)}
        if done.returncode != 0:
            result["refused"] = (done.stderr or done.stdout).strip().splitlines()[-1:]
            parts = split_file(path, PART_ROWS)
            start = time.perf_counter()
            for part in parts:
                part_done = import_file(part)
                if part_done.returncode != 0:
                    sys.exit(f"import of {part.name} failed: {part_done.stderr[-500:]}")
            result["parts"] = len(parts)
            result["seconds"] = round(time.perf_counter() - start, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return result


def set_up_merchant() -> None:
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Role
    from patron.tenancy.services import create_merchant, create_staff, create_store

    merchant = create_merchant(MERCHANT, "Bench 连锁")
    system = Actor.system(merchant)
    for number, code in enumerate(STORES, start=1):
        create_store(system, code, f"{number}号店")
    create_staff(system, "bench-hq", "bench-password-1", Role.HQ_ADMIN)


# Physical cards: one member in ten holds one, its id an NFC UID (letters and digits).
CARDS_SQL = """
INSERT INTO cards_card (merchant_id, member_id, card_no, physical_id, status, issued_at,
    fee_paid, fee_waived, created_at, updated_at, store_id)
SELECT m.merchant_id, m.id, m.card_no, 'A' || upper(to_hex(m.id * 7919 + 1048576)), 'active',
    m.joined_at, 0, false, now(), now(), m.store_id
FROM members_member m WHERE m.merchant_id = %(mid)s AND m.id %% 10 = 0
"""

# Points earned: a third of the members 1-5 times, twenty members (`heavy`) 300-599 times.
TRANSACTIONS_SQL = """
INSERT INTO ledger_transaction (merchant_id, kind, idempotency_key, channel, reason, source,
    source_ref, occurred_at, created_at, member_id, store_id)
SELECT m.merchant_id, 'earn', 'bench-' || m.id || '-' || k, 'till', '', 'sale', '',
    now() - ((m.id * 7 + k * 13) %% 700) * interval '1 day' - (k %% 24) * interval '1 hour',
    now(), m.id, m.store_id
FROM members_member m,
    generate_series(1, CASE WHEN m.id = ANY(%(heavy)s) THEN 300 + m.id %% 300
                            ELSE 1 + m.id %% 5 END) AS k
WHERE m.merchant_id = %(mid)s AND (m.id %% 3 = 0 OR m.id = ANY(%(heavy)s))
"""

ACCOUNTS_SQL = """
INSERT INTO ledger_account (merchant_id, asset, owner_type, system_code, balance, member_id)
SELECT DISTINCT merchant_id, 'points', 'member', '', 0, member_id
FROM ledger_transaction WHERE merchant_id = %(mid)s AND member_id IS NOT NULL
"""

ENTRIES_SQL = """
INSERT INTO ledger_entry (asset, amount, occurred_at, account_id, member_id, transaction_id)
SELECT 'points', sides.sign * (1 + t.id %% 200), t.occurred_at,
    CASE WHEN sides.sign = 1 THEN a.id ELSE %(issued)s END, t.member_id, t.id
FROM ledger_transaction t
JOIN ledger_account a ON a.member_id = t.member_id AND a.asset = 'points'
    AND a.owner_type = 'member'
CROSS JOIN (VALUES (1), (-1)) AS sides(sign)
WHERE t.merchant_id = %(mid)s
"""

BALANCES_SQL = """
UPDATE ledger_account a SET balance = sums.total
FROM (SELECT account_id, sum(amount) AS total FROM ledger_entry
      WHERE amount > 0 GROUP BY account_id) AS sums
WHERE a.id = sums.account_id AND a.owner_type = 'member'
"""

# Two audit entries per member (created, then one change or look), over two years.
AUDIT_SQL = """
INSERT INTO tenancy_auditentry (merchant_id, at, channel, action, object_type, object_id,
    object_repr, changes, store_id)
SELECT m.merchant_id, m.joined_at + k * interval '3 days' - ((m.id * 11) %% 700) * interval '1 day',
    (ARRAY['console', 'till', 'api'])[1 + (m.id + k) %% 3],
    CASE WHEN k = 0 THEN 'create' WHEN m.id %% 4 = 0 THEN 'view' ELSE 'update' END,
    'member', m.id::text, m.name, '{}'::jsonb, m.store_id
FROM members_member m, generate_series(0, 1) AS k
WHERE m.merchant_id = %(mid)s
"""

# One sale per member over two years, and about two thousand today.
SALES_SQL = """
INSERT INTO sales_sale (merchant_id, member_id, store_id, channel, idempotency_key,
    occurred_at, created_at, status, subtotal, member_discount, discount, points_redeemed,
    points_value, total, stored_value_paid, cash_due, points_earned, points_pending, saved,
    codes)
SELECT m.merchant_id, m.id, m.store_id, 'till', 'bench-sale-' || m.id,
    CASE WHEN m.id %% 500 = 0 THEN now() - (m.id %% 600) * interval '1 minute'
         ELSE now() - ((m.id * 13) %% 730) * interval '1 day' - interval '1 day' END,
    now(), 'completed', 1000 + (m.id * 7919) %% 90000, 0, 0, 0, 0,
    1000 + (m.id * 7919) %% 90000, 0, 1000 + (m.id * 7919) %% 90000, 0, false, 0, '[]'::jsonb
FROM members_member m WHERE m.merchant_id = %(mid)s
"""

TABLES = [
    "members_member",
    "cards_card",
    "ledger_transaction",
    "ledger_account",
    "ledger_entry",
    "tenancy_auditentry",
    "sales_sale",
]


def heavy_members(mid: int, count: int = 20) -> list[int]:
    """Twenty members spread over the table, each with hundreds of ledger entries."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM members_member WHERE merchant_id = %s ORDER BY id", [mid])
        ids = [row[0] for row in cursor.fetchall()]
    step = max(1, len(ids) // count)
    return ids[step // 2 :: step][:count]


def issued_account(merchant) -> int:
    from patron.ledger.models import Account, OwnerType, SystemAccount

    account, _ = Account.objects.get_or_create(
        merchant=merchant,
        asset="points",
        owner_type=OwnerType.SYSTEM,
        system_code=SystemAccount.ISSUED,
    )
    return account.pk


def timed_step(label: str, fn: Callable[[], object]) -> None:
    start = time.perf_counter()
    fn()
    print(f"  {label:<46} {time.perf_counter() - start:7.1f} s", flush=True)


def fill_other_tables() -> None:
    from django.db import connection, transaction

    from patron.tenancy.models import Merchant

    merchant = Merchant.objects.get(slug=MERCHANT)
    params = {
        "mid": merchant.pk,
        "heavy": heavy_members(merchant.pk),
        "issued": issued_account(merchant),
    }

    def run(sql: str) -> Callable[[], None]:
        def execute() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)

        return execute

    timed_step("physical cards (1 member in 10)", run(CARDS_SQL))
    timed_step("ledger transactions", run(TRANSACTIONS_SQL))
    timed_step("ledger accounts", run(ACCOUNTS_SQL))
    timed_step("ledger entries (two per transaction)", run(ENTRIES_SQL))
    timed_step("member balances", run(BALANCES_SQL))
    timed_step("audit entries", run(AUDIT_SQL))
    timed_step("sales", run(SALES_SQL))

    def analyse() -> None:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")

    # What autovacuum does after a bulk load: statistics and the visibility map.
    timed_step("VACUUM ANALYZE", analyse)


def table_sizes() -> list[tuple[str, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)", [TABLES]
        )
        sizes = dict(cursor.fetchall())
    return [(table, sizes.get(table, 0)) for table in TABLES]


def build(pg: str, database: str, n: int) -> dict:
    recreate(pg, database)
    configure(pg.rstrip("/") + "/" + database)
    from django.core.management import call_command

    timed_step("migrate", lambda: call_command("migrate", verbosity=0))
    set_up_merchant()
    print(f"  importing {n:,} members through `patron import members` ...", flush=True)
    imported = import_members(n)
    print(f"  {'import':<46} {imported['seconds']:7.1f} s", flush=True)
    fill_other_tables()
    return {"members": n, "import": imported}


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Probe:
    """One search or page: the URLs Patron answers and the plain SQL returning the same rows."""

    label: str
    target_ms: int
    urls: list[str]
    sql: str
    sql_params: list[list[object]]
    api: bool = False
    # The member each URL must find on its page (searches for one member), else empty.
    expected: list[int] = field(default_factory=list)
    timings: list[float] = field(default_factory=list)
    sql_timings: list[float] = field(default_factory=list)
    status: int = 200
    rows: int = 0
    found: int = 0
    statements: int = 0

    @property
    def p50(self) -> float:
        return statistics.median(self.timings) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.timings, 0.95) * 1000

    @property
    def sql_p50(self) -> float:
        return statistics.median(self.sql_timings) * 1000

    @property
    def sql_p95(self) -> float:
        return percentile(self.sql_timings, 0.95) * 1000

    @property
    def missed(self) -> bool:
        return self.status == 200 and self.p95 > self.target_ms


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def samples_of(values: list, count: int) -> list:
    """`count` values cycling through `values` (distinct as long as there are enough)."""
    return [values[i % len(values)] for i in range(count)]


@dataclass
class Sample:
    """Real members to search for: ids, mobiles and card numbers (in step), physical card ids
    and the members holding them (in step), members with many and with few ledger entries."""

    member_ids: list[int]
    mobiles: list[str]
    card_nos: list[str]
    physical_ids: list[str]
    physical_members: list[int]
    heavy: list[int]
    light: list[int]


def sample_members(count: int) -> Sample:
    from django.db import connection

    from patron.tenancy.models import Merchant

    mid = Merchant.objects.get(slug=MERCHANT).pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, mobile, card_no FROM members_member WHERE merchant_id = %s"
            " ORDER BY md5(id::text) LIMIT %s",
            [mid, count],
        )
        members = cursor.fetchall()
        cursor.execute(
            "SELECT physical_id, member_id FROM cards_card"
            " WHERE merchant_id = %s AND physical_id <> ''"
            " ORDER BY md5(id::text) LIMIT %s",
            [mid, count],
        )
        physical = cursor.fetchall() or [("NONE", 0)]
        cursor.execute(
            "SELECT member_id FROM ledger_account WHERE merchant_id = %s AND owner_type = 'member'"
            " ORDER BY balance DESC LIMIT %s",
            [mid, count // 2],
        )
        heavy = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT member_id FROM ledger_account WHERE merchant_id = %s AND owner_type = 'member'"
            " ORDER BY md5(id::text) LIMIT %s",
            [mid, count - count // 2],
        )
        light = [row[0] for row in cursor.fetchall()]
    return Sample(
        member_ids=[i for i, _, _ in members],
        mobiles=[m for _, m, _ in members],
        card_nos=[c for _, _, c in members],
        physical_ids=[p for p, _ in physical],
        physical_members=[m for _, m in physical],
        heavy=heavy or [0],
        light=light or [0],
    )


MEMBER_COLUMNS = "m.id, m.card_no, m.mobile, m.name, m.gender, m.joined_at, s.code"
MEMBER_FROM = "FROM members_member m LEFT JOIN tenancy_store s ON s.id = m.store_id"
MEMBER_PAGE = f"ORDER BY m.joined_at DESC, m.id DESC LIMIT {PAGE_SIZE}"


def member_sql(condition: str) -> str:
    where = f"WHERE m.merchant_id = %s AND {condition}"
    return f"SELECT {MEMBER_COLUMNS} {MEMBER_FROM} {where} {MEMBER_PAGE}"


def q(value: str) -> str:
    return urllib.parse.quote(value)


def searches(mid: int, sample: Sample, count: int) -> list[Probe]:
    two_chars = [s + g for s, g in zip(SURNAMES, GIVEN, strict=False)]
    mobiles = samples_of(sample.mobiles, count)
    owners = samples_of(sample.member_ids, count)
    physical = samples_of(sample.physical_ids, count)
    holders = samples_of(sample.physical_members, count)
    api = "/api/v1/members?q="

    def probe(
        label: str,
        values: list[str],
        sql: str,
        params: list[str],
        url: str = api,
        expected: list[int] | None = None,
    ) -> Probe:
        urls = [url + q(v) for v in values]
        sql_params: list[list[object]] = [[mid, p] for p in params]
        return Probe(label, SEARCH_TARGET_MS, urls, sql, sql_params, True, expected or [])

    name_sql = member_sql("m.name LIKE %s")
    pinyin_sql = member_sql("m.name_pinyin LIKE %s")
    mobile_sql = member_sql("m.mobile LIKE %s")
    names = samples_of(list(SURNAMES), count)
    pairs = samples_of(two_chars, count)
    full = samples_of(PINYIN_FULL, count)
    initials = samples_of(PINYIN_INITIALS, count)
    sevens = [m[:7] for m in mobiles]
    fours = [m[-4:] for m in mobiles]
    cards = samples_of(sample.card_nos, count)  # in step with mobiles and owners
    return [
        probe("name, 1 character (q=王)", names, name_sql, [f"%{v}%" for v in names]),
        probe("name, 2 characters (q=王芳)", pairs, name_sql, [f"%{v}%" for v in pairs]),
        probe("pinyin (q=wang)", full, pinyin_sql, [f"%{v}%" for v in full]),
        probe("pinyin initials (q=zs)", initials, pinyin_sql, [f"%{v}%" for v in initials]),
        probe("mobile, first 7 digits", sevens, mobile_sql, [f"{v}%" for v in sevens], api, owners),
        probe("mobile, last 4 digits", fours, mobile_sql, [f"%{v}" for v in fours]),
        probe("card number", cards, member_sql("m.card_no = %s"), cards, api, owners),
        probe(
            "physical card id",
            physical,
            f"SELECT {MEMBER_COLUMNS} {MEMBER_FROM} JOIN cards_card c ON c.member_id = m.id"
            f" WHERE c.merchant_id = %s AND c.physical_id = %s {MEMBER_PAGE}",
            physical,
            expected=holders,
        ),
        probe(
            "exact mobile (mobile=)",
            mobiles,
            member_sql("m.mobile = %s"),
            mobiles,
            url="/api/v1/members?mobile=",
            expected=owners,
        ),
    ]


def pages(mid: int, sample: Sample, count: int, stores: dict[str, int]) -> list[Probe]:
    combos = [(s, g) for s in STORES for g in "FM"]
    combos = samples_of(combos, count)
    names = samples_of(list(SURNAMES), count)
    members = samples_of(sample.heavy + sample.light, count)
    shown_stores = samples_of(["all", *STORES], count)
    entry_sql = (
        "SELECT e.id, e.amount, e.asset, e.occurred_at, t.kind, t.reason, s.name"
        " FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id"
        " JOIN ledger_transaction t ON t.id = e.transaction_id"
        " LEFT JOIN tenancy_store s ON s.id = t.store_id"
        " WHERE e.member_id = %s AND a.owner_type = 'member'"
        f" ORDER BY e.occurred_at DESC, e.id DESC LIMIT {PAGE_SIZE}"
    )
    today = "date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'"
    sales_sql = (
        "SELECT x.id, x.occurred_at, x.total, x.status, m.name, s.name FROM sales_sale x"
        " LEFT JOIN members_member m ON m.id = x.member_id"
        " JOIN tenancy_store s ON s.id = x.store_id"
        f" WHERE x.merchant_id = %s AND x.occurred_at >= {today}"
        " AND (%s::bigint IS NULL OR x.store_id = %s)"
        f" ORDER BY x.occurred_at DESC, x.id DESC LIMIT {PAGE_SIZE}"
    )
    home_sql = (
        "SELECT (SELECT count(*) FROM sales_sale WHERE merchant_id = %s"
        f" AND occurred_at >= {today}),"
        " (SELECT count(*) FROM members_member WHERE merchant_id = %s"
        f" AND joined_at >= {today} - interval '30 days')"
    )
    return [
        Probe(
            "member list",
            PAGE_TARGET_MS,
            ["/members/"] * count,
            member_sql("true"),
            [[mid]] * count,
        ),
        Probe(
            "member list, name search (q=王)",
            PAGE_TARGET_MS,
            [f"/members/?q={q(n)}" for n in names],
            member_sql("m.name LIKE %s"),
            [[mid, f"%{n}%"] for n in names],
        ),
        Probe(
            "member list, store + gender",
            PAGE_TARGET_MS,
            [f"/members/?store={s}&gender={g}" for s, g in combos],
            member_sql("m.store_id = %s AND m.gender = %s"),
            [[mid, stores.get(s), g] for s, g in combos],
        ),
        Probe(
            "audit log",
            PAGE_TARGET_MS,
            ["/audit/"] * count,
            "SELECT a.id, a.at, a.action, a.object_type, a.object_repr, a.channel"
            " FROM tenancy_auditentry a WHERE a.merchant_id = %s"
            f" ORDER BY a.at DESC, a.id DESC LIMIT {PAGE_SIZE}",
            [[mid]] * count,
        ),
        Probe(
            "member's ledger history",
            PAGE_TARGET_MS,
            [f"/ledger/members/{m}/" for m in members],
            entry_sql,
            [[m] for m in members],
        ),
        Probe(
            "sales list (today)",
            PAGE_TARGET_MS,
            [f"/cashier/sales/?store={s}" for s in shown_stores],
            sales_sql,
            [[mid, stores.get(s), stores.get(s)] for s in shown_stores],
        ),
        Probe("home", PAGE_TARGET_MS, ["/"] * count, home_sql, [[mid, mid]] * count),
    ]


def store_pks(mid: int) -> dict[str, int]:
    from patron.tenancy.models import Store

    return dict(Store.objects.filter(merchant_id=mid).values_list("code", "id"))


def clients():
    """The API client (an API key) and the console client (logged in as HQ)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant
    from patron.tenancy.services import create_api_key

    merchant = Merchant.objects.get(slug=MERCHANT)
    _, key = create_api_key(Actor.system(merchant), f"bench-{time.time_ns()}")
    api = Client(headers={"Authorization": f"Bearer {key}"})
    console = Client(headers={"Accept-Language": "zh-hans"})
    console.force_login(get_user_model().objects.get(username="bench-hq"))
    return api, console


def ids_in(response) -> list[int] | None:
    """The member ids on an API page; None for an HTML page."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return None
    body = response.json()
    items = body.get("items") if isinstance(body, dict) else body
    return [item.get("id") for item in items or []]


def measure(probe: Probe, client) -> None:
    """Each URL once, then each plain SQL statement once, alternating (same load for both)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Warm (the first request of a kind loads its templates), counting its statements.
    with CaptureQueriesContext(connection) as captured:
        client.get(probe.urls[0])
    probe.statements = len(captured.captured_queries)
    for number, (url, params) in enumerate(zip(probe.urls, probe.sql_params, strict=True)):
        start = time.perf_counter()
        response = client.get(url)
        probe.timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            probe.status = response.status_code
            return
        ids = ids_in(response)
        shown = response.content.count(b"<tr") if ids is None else len(ids)
        probe.rows = max(probe.rows, shown)
        if probe.expected and ids is not None and probe.expected[number] in ids:
            probe.found += 1
        with connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(probe.sql, params)
            cursor.fetchall()
            probe.sql_timings.append(time.perf_counter() - start)


@dataclass
class Statements:
    """One request's SQL: its slowest statement, and how much of the request SQL took."""

    request_ms: float
    sql_ms: float
    count: int
    slowest_ms: float
    slowest_sql: str


def statements_of(probe: Probe, client) -> Statements | None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        client.get(probe.urls[-1])
        request_ms = (time.perf_counter() - start) * 1000
    timed = [(float(query["time"]) * 1000, query["sql"]) for query in captured.captured_queries]
    # EXPLAIN ANALYZE runs the statement: only reads are explained (a page may write, e.g.
    # its session or an audit entry).
    reads = [(ms, sql) for ms, sql in timed if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    if not reads:
        return None
    slowest_ms, slowest_sql = max(reads)
    total = sum(ms for ms, _ in timed)
    return Statements(request_ms, total, len(timed), slowest_ms, slowest_sql)


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return [row[0] for row in cursor.fetchall()]


def report_line(probe: Probe) -> str:
    if probe.status != 200:
        return f"{probe.label:<36} HTTP {probe.status} at {probe.urls[0]}"
    miss = "  MISS" if probe.missed else ""
    ratio = probe.p50 / probe.sql_p50 if probe.sql_p50 else float("inf")
    found = f"{probe.found}/{len(probe.timings)}" if probe.expected else "-"
    return (
        f"{probe.label:<36} {probe.p50:8.0f} {probe.p95:8.0f} {probe.sql_p50:8.1f}"
        f" {probe.sql_p95:8.1f} {ratio:7.1f} {probe.statements:>5} {probe.rows:>5}"
        f" {found:>6}{miss}"
    )


def print_table(title: str, probes: list[Probe]) -> None:
    print(f"\n{title}")
    print(
        f"{'':<36} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8} {'SQL p95':>8} {'ratio':>7}"
        f" {'stmts':>5} {'rows':>5} {'found':>6}"
    )
    for probe in probes:
        print(report_line(probe), flush=True)


def print_plans(probes: list[Probe], api, console) -> None:
    for probe in probes:
        if not probe.missed:
            continue
        found = statements_of(probe, api if probe.api else console)
        if found is None:
            continue
        print(
            f"\n--- {probe.label}: {probe.urls[-1]} took {found.request_ms:.0f} ms, of which"
            f" {found.count} SQL statements {found.sql_ms:.0f} ms; the slowest"
            f" ({found.slowest_ms:.0f} ms):"
        )
        print(found.slowest_sql)
        print("\n".join(explain(found.slowest_sql)))


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20, help="requests per search or page")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_scale")
    parser.add_argument("--search-target-ms", type=int, default=SEARCH_TARGET_MS)
    parser.add_argument(
        "--page-target-ms",
        type=int,
        default=PAGE_TARGET_MS,
        help="p95 past which a page's plan is printed (0 prints every page's)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database, and use it again when it holds as many members",
    )
    args = parser.parse_args()
    if args.members < 100 or args.samples < 1:
        parser.error("--members must be at least 100 and --samples at least 1")

    print(f"bench-scale: {args.members:,} members on {args.pg.rstrip('/')}/{args.database}")
    kept = built_with(args.pg, args.database) if args.reuse else None
    if kept is not None and kept.get("members") == args.members:
        print("  reusing the database a --reuse run built (import figures measured then)")
        configure(args.pg.rstrip("/") + "/" + args.database)
        from django.core.management import call_command

        # The code may have moved on since (new indexes, columns): measure it on its schema.
        timed_step(
            "migrate (what is new since it was built)", lambda: call_command("migrate", verbosity=0)
        )
        built = kept
    else:
        built = build(args.pg, args.database, args.members)
        if args.reuse:
            remember_build(args.pg, args.database, built)

    imported = built["import"]
    how = "one file"
    if "parts" in imported:
        how = f"{imported['parts']} files after the one file was refused ({imported['refused']})"
    print(
        f"\nimport: {imported['rows']:,} rows ({imported['megabytes']} MB) in"
        f" {imported['seconds']:.0f} s, {imported['rows'] / imported['seconds']:,.0f} rows/s,"
        f" peak RSS {imported['peak_rss_mb']} MB; {how}"
    )
    print("tables: " + ", ".join(f"{table} {rows:,}" for table, rows in table_sizes()))

    from patron.tenancy.models import Merchant

    mid = Merchant.objects.get(slug=MERCHANT).pk
    sample = sample_members(max(args.samples, 20))
    api, console = clients()
    found = searches(mid, sample, args.samples)
    listed = pages(mid, sample, args.samples, store_pks(mid))
    for probe in found:
        probe.target_ms = args.search_target_ms
    for probe in listed:
        probe.target_ms = args.page_target_ms
    for probe in found:
        measure(probe, api)
    print_table(f"search: GET /api/v1/members (target p95 < {args.search_target_ms} ms)", found)
    for probe in listed:
        measure(probe, console)
    print_table(f"console pages, first page (target p95 < {args.page_target_ms} ms)", listed)
    print(
        "\nratio = Patron p50 / plain SQL p50; stmts = SQL statements of one request;"
        " rows = most items on an API page, table rows (<tr>) on a console page; found ="
        " requests whose"
        f" page held the member searched for; {args.samples} requests each, in process"
        " (Django test Client)"
    )
    print(f"load average {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print_plans(found + listed, api, console)
    if not args.reuse:
        drop(args.pg, args.database)


if __name__ == "__main__":
    main()
