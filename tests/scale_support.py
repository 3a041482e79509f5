"""Many members, fast: a fixture builder for the scale tests and benchmarks (issue 21).

`build_members(merchant, n)` writes `n` members of one merchant straight into the table —
PostgreSQL's COPY, or executemany on SQLite — with Chinese names (and their pinyin), unique
mobiles, card numbers from the merchant's own sequence, stores, genders and join dates spread
over three years. No service runs: no audit entries, consents, accounts or tags. It is for
exercising reads (search, lists, counts), not registration. Deterministic for a seed.

    from tests.scale_support import build_members
    build_members(merchant, 200_000, stores=[s1, s2])   # about 15 s on PostgreSQL here
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from patron.members.models import Member
from patron.members.pinyin import name_pinyin
from patron.members.services import MEMBER_DEFAULTS, REFERRAL_ALPHABET, allocate_card_numbers

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉婷雪琳晨欣怡浩宇轩子涵"
    "梓睿思雨佳嘉俊博文"
)
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "186")
GENDERS = ("M", "F", "U")
COLUMNS = (
    "merchant_id",
    "card_no",
    "mobile",
    "name",
    "name_pinyin",
    "gender",
    "store_id",
    "referral_code",
    "joined_at",
    "created_at",
    "updated_at",
)


@cache
def cached_pinyin(name: str) -> str:
    return name_pinyin(name)


def referral_code(index: int) -> str:
    """Nine symbols, one more than the service's random codes, so they never meet."""
    symbols = []
    for _ in range(9):
        index, digit = divmod(index, 32)
        symbols.append(REFERRAL_ALPHABET[digit])
    return "".join(reversed(symbols))


def unique_mobiles(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    mobiles: list[str] = []
    while len(mobiles) < n:
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if mobile not in taken:
            taken.add(mobile)
            mobiles.append(mobile)
    return mobiles


def member_rows(merchant: Any, n: int, stores: Sequence[Any], seed: int) -> Iterator[list[Any]]:
    """The rows, after every query they need has run: the COPY holds the connection."""
    rng = random.Random(seed)
    taken = set(Member.objects.filter(merchant=merchant).values_list("mobile", flat=True))
    mobiles = unique_mobiles(rng, n, taken)
    cards = allocate_card_numbers(merchant, n)
    offset = Member.objects.filter(merchant=merchant).count()
    return generated_rows(rng, merchant, mobiles, cards, offset, stores)


def generated_rows(
    rng: random.Random,
    merchant: Any,
    mobiles: list[str],
    cards: list[str],
    offset: int,
    stores: Sequence[Any],
) -> Iterator[list[Any]]:
    now = timezone.now()
    store_ids = [store.pk for store in stores] or [None]
    for index in range(len(mobiles)):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        joined = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
        yield [
            merchant.pk,
            cards[index],
            mobiles[index],
            name,
            cached_pinyin(name),
            rng.choice(GENDERS),
            store_ids[index % len(store_ids)],
            referral_code(offset + index),
            joined,
            now,
            now,
        ]


def defaults() -> dict[str, Any]:
    """The other columns' defaults, in their database form."""
    fields = {f.attname: f for f in Member._meta.concrete_fields}
    return {
        name: fields[name].get_db_prep_save(value, connection)
        for name, value in MEMBER_DEFAULTS.items()
        if name not in COLUMNS
    }


def build_members(
    merchant: Any, n: int, *, stores: Sequence[Any] = (), seed: int = 21, batch: int = 5000
) -> None:
    """Add `n` members to `merchant` (see the module's docstring)."""
    rest = defaults()
    columns = [*COLUMNS, *rest]
    tail = list(rest.values())
    rows = (row + tail for row in member_rows(merchant, n, stores, seed))  # queries run here
    table = Member._meta.db_table
    if connection.vendor == "postgresql":
        copy_rows(table, columns, rows)
    else:
        insert_rows(table, columns, rows, batch)


def copy_rows(table: str, columns: Sequence[str], rows: Iterator[list[Any]]) -> None:
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"ANALYZE {table}")


def as_sqlite(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def insert_rows(table: str, columns: Sequence[str], rows: Iterator[list[Any]], batch: int) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    chunk: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            # In the text Django writes ("2026-01-02 03:04:05.000006"), which its queries
            # compare with; sqlite3's own adapter would write another ("…T…+00:00").
            chunk.append([as_sqlite(value) for value in row])
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
