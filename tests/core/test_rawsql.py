"""rawsql against the ORM: a row selected with `{t:columns}` and turned into an instance by
`build` must be what the ORM loads (every value, its type, time zones), and the names it
writes must be the models' own, quoted for the backend."""

from __future__ import annotations

import datetime as dt
import ipaddress
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils import timezone

from patron.core import rawsql
from patron.core.models import IdempotencyRecord
from patron.ledger.models import Asset, LedgerPolicy, PointsLot, Transaction
from patron.members.models import Member
from patron.promotions.models import Tier
from patron.sales.models import MemberStats, Sale, SaleLine
from patron.tenancy.models import ApiKey, Merchant, Store

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
VALID_ID = "11010519491231002X"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def built(model: type[models.Model], pk) -> models.Model:
    statement = rawsql.Statement(
        "SELECT {t:columns} FROM {t} WHERE {t.pk} = %s", t=rawsql.Table(model, "t")
    )
    return rawsql.build(model, rawsql.fetch_one(statement, [pk]))


def assert_as_the_orm_loads(instance: models.Model) -> None:
    model = type(instance)
    assert_same(built(model, instance.pk), model.objects.get(pk=instance.pk))


def assert_same(ours: models.Model, orm: models.Model) -> None:
    model = type(orm)
    assert type(ours) is model
    for field in model._meta.concrete_fields:
        mine, theirs = getattr(ours, field.attname), getattr(orm, field.attname)
        assert mine == theirs, field.name
        assert type(mine) is type(theirs), field.name
        if isinstance(theirs, dt.datetime):
            assert mine.tzinfo is not None and mine.utcoffset() == theirs.utcoffset(), field.name
    assert (ours._state.adding, ours._state.db) == (False, "default")


@pytest.fixture
def tier(merchant) -> Tier:
    return Tier.objects.create(
        merchant=merchant, code="gold", name="金卡", rank=2, discount={"drinks": 88}
    )


@pytest.fixture
def member(merchant, stores, tier) -> Member:
    return Member.objects.create(
        merchant=merchant,
        card_no="1000000001",
        mobile="13800138000",
        name="张三",
        birthday=dt.date(1990, 2, 28),
        id_number=VALID_ID,  # encrypted at rest
        consent_sms=True,
        store=stores["S1"],
        referral_code="ABC123",
        tier=tier,
        custom={"口味": "不辣", "visits": 3, "vip": True},
        joined_at=dt.datetime(2026, 1, 1, 23, 30, tzinfo=SHANGHAI),
    )


def test_a_member_as_the_orm_loads_it(member):
    """Encrypted text, JSON, a date, booleans, set and empty foreign keys, datetimes."""
    assert_as_the_orm_loads(member)
    assert built(Member, member.pk).id_number == VALID_ID


def test_a_sale_as_the_orm_loads_it(merchant, stores, member):
    sale = Sale.objects.create(
        merchant=merchant,
        member=member,
        store=stores["S2"],
        idempotency_key="k-1",
        occurred_at=timezone.now(),
        subtotal=1000,
        discount=100,
        total=900,
        points_pending=True,
        codes=["SPRING10", "春节"],
    )
    assert_as_the_orm_loads(sale)
    line = SaleLine.objects.create(
        sale=sale,
        merchant=merchant,
        position=0,
        sku="TEA",
        model="X1",  # a field whose name is also a Table attribute elsewhere
        quantity=2,
        unit_price=500,
        member_price=450,
        discount=100,
        total=900,
        gift=False,
        store=stores["S2"],
        occurred_at=sale.occurred_at,
    )
    assert_as_the_orm_loads(line)


def test_other_field_kinds_as_the_orm_loads_them(system, merchant, stores, member):
    """Nullable datetimes set and empty, an IP address, bytes, a one-to-one primary key."""
    txn = Transaction.objects.create(
        merchant=merchant,
        kind=Transaction.Kind.ADJUST,
        idempotency_key="t-1",
        member=member,
        ip="2001:db8::1",
        occurred_at=timezone.now(),
    )
    never = PointsLot.objects.create(
        merchant=merchant,
        member=member,
        earned_by=txn,
        earned_at=txn.occurred_at,
        amount=10,
        remaining=10,
    )
    dated = PointsLot.objects.create(
        merchant=merchant,
        member=member,
        earned_by=txn,
        earned_at=txn.occurred_at,
        expires_at=dt.datetime(2027, 12, 31, 16, tzinfo=dt.UTC),
        amount=5,
        remaining=0,
    )
    record = IdempotencyRecord.objects.create(
        merchant=merchant, key="x", method="POST", path="/", request_hash="h", response_body=b"{}"
    )
    stats = MemberStats.objects.create(member=member, merchant=merchant, visits=2)
    policy = LedgerPolicy.objects.create(merchant=merchant, points={"earn": None}, topup_bonus=[])
    for instance in (txn, never, dated, record, stats, policy, stores["S1"], merchant):
        assert_as_the_orm_loads(instance)
    assert ipaddress.ip_address(built(Transaction, txn.pk).ip) == ipaddress.ip_address(txn.ip)


def test_two_models_in_one_row(system, stores):
    """A joined row is split by `width`, each slice built on its own (the API key look-up)."""
    from patron.tenancy.services import create_api_key

    key, _token = create_api_key(system, "tests")
    statement = rawsql.Statement(
        "SELECT {k:columns}, {m:columns} FROM {k} JOIN {m} ON {m.id} = {k.merchant}"
        " WHERE {k.id} = %s",
        k=rawsql.Table(ApiKey, "k"),
        m=rawsql.Table(Merchant, "m"),
    )
    row = rawsql.fetch_one(statement, [key.pk])
    split = rawsql.width(ApiKey)
    assert len(row) == split + rawsql.width(Merchant)
    assert_same(rawsql.build(ApiKey, row[:split]), ApiKey.objects.get(pk=key.pk))
    assert_same(rawsql.build(Merchant, row[split:]), Merchant.objects.get(pk=key.merchant_id))


# --- names -----------------------------------------------------------------------------------


def test_tables_and_columns_are_the_models_own_quoted():
    assert rawsql.table(Sale) == quote(Sale._meta.db_table) == quote("sales_sale")
    assert rawsql.column(Sale, "member") == rawsql.column(Sale, "member_id") == quote("member_id")
    assert rawsql.column(Sale, "pk") == quote("id")
    assert rawsql.column(IdempotencyRecord, "key") == quote("key")  # a reserved word
    assert rawsql.columns(Store, "s") == ", ".join(
        f"s.{quote(field.column)}" for field in Store._meta.concrete_fields
    )
    assert rawsql.columns(Store) == ", ".join(
        quote(field.column) for field in Store._meta.concrete_fields
    )
    assert rawsql.width(Store) == len(Store._meta.concrete_fields)


def test_only_concrete_fields_have_columns():
    with pytest.raises(FieldDoesNotExist):
        rawsql.column(Sale, "no_such_field")
    with pytest.raises(FieldDoesNotExist):
        rawsql.column(Sale, "lines")  # a reverse relation
    with pytest.raises(FieldDoesNotExist):
        rawsql.Table(Sale).no_such_field  # noqa: B018 - fails where the statement is written


def test_insert_fields_leave_out_the_automatic_key_only():
    assert rawsql.insert_fields(SaleLine)[:2] == ("sale_id", "merchant_id")
    assert "id" not in rawsql.insert_fields(SaleLine)
    assert rawsql.insert_fields(MemberStats)[0] == "member_id"  # a one-to-one primary key
    left = rawsql.insert_fields(Sale, leave_out=("points_spend", "points_hold_id"))
    assert "points_spend_id" not in left and "points_hold_id" not in left
    assert "points_earn_id" in left


def test_a_table_in_a_template():
    sale, line = rawsql.Table(Sale, "s"), rawsql.Table(SaleLine)
    statement = rawsql.Statement(
        "SELECT {s.total}, {line.model} FROM {s} JOIN {line} ON {line.sale} = {s.id}",
        s=sale,
        line=line,
    )
    assert statement.text() == (
        f"SELECT s.{quote('total')}, {quote('model')} FROM {quote('sales_sale')} s"
        f" JOIN {quote('sales_saleline')} ON {quote('sale_id')} = s.{quote('id')}"
    )
    assert format(sale, "columns") == rawsql.columns(Sale, "s")
    with pytest.raises(ValueError):
        format(sale, "everything")


def test_statements_are_formatted_once_per_backend_and_compose():
    inner = rawsql.Statement("{t.code}", t=rawsql.Table(Tier, "t"))
    outer = rawsql.Statement(
        "SELECT {inner}, {rest} FROM {t}", inner=inner, rest="1", t=rawsql.Table(Tier, "t")
    )
    text = outer.text()
    assert text == f"SELECT t.{quote('code')}, 1 FROM {quote('promotions_tier')} t"
    assert outer.text() is text and outer.text(connection.vendor) is text  # kept
    joined = rawsql.joined([inner, "2", outer], " | ")
    assert joined.text() == f"{inner.text()} | 2 | {text}"


def test_for_update_where_the_backend_locks_rows():
    lock = format(rawsql.FOR_UPDATE, "")
    assert lock == (" FOR UPDATE" if connection.features.has_select_for_update else "")


def test_a_statement_reads_what_the_orm_reads(system, member, merchant):
    """A fragment with its parameters in a statement: the member's points, as the ORM sums."""
    from patron.ledger import services as ledger
    from patron.ledger import sql as ledger_sql

    ledger.earn_points(system, member, 120, key="earn-1")
    m = rawsql.Table(Member, "m")
    points = ledger_sql.member_balance((Asset.POINTS,), merchant_id=m.merchant_id, member_id=m.id)
    statement = rawsql.Statement(
        "SELECT {points} FROM {m} WHERE {m.id} = %s", points=points.sql, m=m
    )
    assert rawsql.fetch_one(statement, [*points.params, member.pk]) == (
        ledger.quick_balances(member)[Asset.POINTS],
    )


def test_inserts_and_joins_are_built_once():
    statement = rawsql.insert(SaleLine, ("sale_id", "model"), 2, ("id",))
    assert statement is rawsql.insert(SaleLine, ("sale_id", "model"), 2, ("id",))
    assert statement.text() == (
        f"INSERT INTO {quote('sales_saleline')} ({quote('sale_id')}, {quote('model')})"
        f" VALUES (%s, %s), (%s, %s) RETURNING {quote('id')}"
    )
    outer = rawsql.Table(Member, "m")
    join = rawsql.left_join(
        rawsql.Table(MemberStats, "s"), ("visits", "saved"), key="member", to=outer.id
    )
    assert join.width == 2
    assert join.columns.text() == f"s.{quote('visits')}, s.{quote('saved')}"
    assert join.clause.text() == (
        f"LEFT JOIN {quote('sales_memberstats')} s ON s.{quote('member_id')} = m.{quote('id')}"
    )
