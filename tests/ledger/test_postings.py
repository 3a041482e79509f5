"""`post_sale` (checkout's batched postings) writes exactly what the one-by-one services write.

The oracle is the ledger's own `spend_points`, `pay_stored_value` and `earn_points`: two
members with the same balances and lots, one posted each way, must end with the same
transactions, entries, lots, lot movements and balances (ids aside).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.engine.points import ExpiryPolicy
from patron.ledger import postings
from patron.ledger import services as ledger
from patron.ledger.errors import InsufficientFunds
from patron.ledger.models import Account, Asset, Entry, LotMovement, PointsHold, PointsLot
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from tests.ledger.conftest import SHANGHAI

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SALE_AT = dt.datetime(2026, 5, 4, 12, 30, tzinfo=SHANGHAI)


def _funded(system, mobile: str, *, points: int = 500, topup: int = 10000):
    """A member with two points lots (the older one expiring first) and stored value with a
    bonus (10,000 fen top-up + 1,000 bonus under the conftest policy)."""
    member = register_member(system, {"mobile": mobile, "store": "S1"})
    early = SALE_AT - dt.timedelta(days=400)
    ledger.earn_points(
        system,
        member,
        points,
        key=f"{mobile}:lot1",
        context=ledger.Context(occurred_at=early),
    )
    ledger.earn_points(
        system,
        member,
        points,
        key=f"{mobile}:lot2",
        context=ledger.Context(occurred_at=SALE_AT - dt.timedelta(days=10)),
    )
    ledger.top_up(system, member, topup, key=f"{mobile}:topup")
    member.merchant = system.merchant
    return member


def _moves(sale_id: int, store, **amounts) -> postings.SaleMoves:
    return postings.SaleMoves(
        sale_id=sale_id,
        store=store,
        occurred_at=SALE_AT,
        expiry=ExpiryPolicy("end_of_next_year"),
        **amounts,
    )


def _picture(member, sale_id: int) -> dict:
    """Everything the sale wrote for the member, without ids."""
    source_ref = str(sale_id)
    entries = Entry.objects.filter(transaction__source_ref=source_ref, transaction__member=member)
    return {
        "transactions": sorted(
            (
                t.kind,
                t.idempotency_key.split(":")[-1],
                t.reason,
                t.source,
                t.occurred_at,
                t.store_id,
            )
            for t in member.ledger_transactions.filter(source_ref=source_ref)
        ),
        "entries": sorted(
            (
                e.transaction.kind,
                e.account.owner_type,
                e.account.system_code,
                e.asset,
                e.amount,
                e.member_id is not None,
                e.occurred_at,
            )
            for e in entries.select_related("transaction", "account")
        ),
        "balances": sorted(Account.objects.filter(member=member).values_list("asset", "balance")),
        "lots": sorted(
            (lot.earned_at, lot.expires_at, lot.amount, lot.remaining)
            for lot in PointsLot.objects.filter(member=member)
        ),
        "movements": sorted(
            (m.transaction.kind, m.amount, m.lot.amount)
            for m in LotMovement.objects.filter(
                transaction__source_ref=source_ref, lot__member=member
            ).select_related("transaction", "lot")
        ),
    }


@pytest.mark.parametrize(
    ("spent", "paid", "earned"),
    [
        (700, 5500, 80),  # spans two lots, takes principal and bonus
        (100, 0, 0),
        (0, 11000, 0),  # every fen of principal and bonus
        (0, 0, 25),
        (500, 300, 500),
    ],
)
def test_post_sale_writes_what_the_services_write(system, stores, policy, spent, paid, earned):
    store = stores["S1"]
    batched = _funded(system, "13800000001")
    reference = _funded(system, "13800000002")
    with transaction.atomic():
        postings.post_sale(
            system,
            batched,
            _moves(9001, store, points_spent=spent, stored_value=paid, points_earned=earned),
        )
    with transaction.atomic():
        _one_by_one_nonzero(system, reference, 9101, store, spent, paid, earned)
    assert _picture(batched, 9001) == _picture(reference, 9101)
    assert reconcile(system.merchant) == []


def _one_by_one_nonzero(system, member, sale_id, store, spent, paid, earned):
    # The services refuse zero amounts; commit_sale only called the ones with something to do.
    if spent:
        _only(system, member, sale_id, store, "spend", spent)
    if paid:
        _only(system, member, sale_id, store, "pay", paid)
    if earned:
        _only(system, member, sale_id, store, "earn", earned)


def _only(system, member, sale_id, store, what, amount):
    context = ledger.Context(
        store=store,
        reason={"spend": "points offset", "pay": "stored value payment", "earn": "sale"}[what],
        source="sale",
        source_ref=str(sale_id),
        occurred_at=SALE_AT,
    )
    action = {
        "spend": ledger.spend_points,
        "pay": ledger.pay_stored_value,
        "earn": ledger.earn_points,
    }[what]
    action(system, member, amount, key=f"sale:{sale_id}:{what}", context=context)


def test_a_sale_that_spends_pays_and_earns_sends_few_statements(system, stores, policy):
    """The point of post_sale (bench/sales.py): guard against the hot path creeping back.
    PostgreSQL chains the writes as CTEs (lock; transactions + balances + lots; the rest),
    SQLite sends them one by one. (The merchant's first such sale also opens its system
    accounts: not measured.)"""
    member = _funded(system, "13800000003")
    with transaction.atomic():
        postings.post_sale(
            system,
            member,
            _moves(9012, stores["S1"], points_spent=1, stored_value=1, points_earned=1),
        )
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        postings.post_sale(
            system,
            member,
            _moves(9002, stores["S1"], points_spent=300, stored_value=2000, points_earned=17),
        )
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == {"postgresql": 3}.get(connection.vendor, 8), statements


def test_points_beyond_the_balance_are_refused_and_nothing_is_written(system, stores, policy):
    member = _funded(system, "13800000004", points=100)
    before = _picture(member, 9003)
    with pytest.raises(InsufficientFunds), transaction.atomic():
        postings.post_sale(
            system, member, _moves(9003, stores["S1"], points_spent=201, points_earned=5)
        )
    assert _picture(member, 9003) == before


def test_stored_value_beyond_the_balance_is_refused(system, stores, policy):
    member = _funded(system, "13800000005", topup=1000)  # no bonus below 10,000 fen
    with pytest.raises(InsufficientFunds), transaction.atomic():
        postings.post_sale(system, member, _moves(9004, stores["S1"], stored_value=1001))
    assert (
        dict(Account.objects.filter(member=member).values_list("asset", "balance"))[Asset.PRINCIPAL]
        == 1000
    )


def test_points_that_expired_unswept_cannot_be_spent(system, stores, policy):
    """The balance still shows them (the nightly expiry has not run), the lots do not."""
    member = register_member(system, {"mobile": "13800000006", "store": "S1"})
    member.merchant = system.merchant
    long_ago = SALE_AT - dt.timedelta(days=800)  # end_of_next_year: gone by SALE_AT
    ledger.earn_points(system, member, 300, key="old", context=ledger.Context(occurred_at=long_ago))
    with pytest.raises(InsufficientFunds), transaction.atomic():
        postings.post_sale(system, member, _moves(9005, stores["S1"], points_spent=100))
    assert PointsLot.objects.get(member=member).remaining == 300


def test_first_points_open_the_account(system, stores, policy):
    member = register_member(system, {"mobile": "13800000007", "store": "S1"})
    member.merchant = system.merchant
    with transaction.atomic():
        posted = postings.post_sale(system, member, _moves(9006, stores["S1"], points_earned=42))
    assert posted.earn_id is not None and posted.spend_id is None and posted.pay_id is None
    assert Account.objects.get(member=member, asset=Asset.POINTS).balance == 42
    assert PointsLot.objects.get(member=member).expires_at == dt.datetime(
        2028, 1, 1, tzinfo=SHANGHAI
    )
    assert reconcile(system.merchant) == []


def test_a_return_window_holds_the_points_instead(system, stores, policy):
    member = _funded(system, "13800000008")
    moves = postings.SaleMoves(
        sale_id=9007,
        store=stores["S1"],
        occurred_at=timezone.now(),
        points_spent=100,
        points_earned=30,
        pending_days=7,
    )
    with transaction.atomic():
        posted = postings.post_sale(system, member, moves)
    assert posted.earn_id is None and posted.spend_id is not None
    hold = PointsHold.objects.get(pk=posted.hold.pk)
    assert (hold.points, hold.status, hold.idempotency_key) == (30, "pending", "sale:9007:earn")
    assert Account.objects.get(member=member, asset=Asset.POINTS).balance == 900
    assert reconcile(system.merchant) == []


def test_psycopg_keeps_the_checkout_statements_parsed():
    """A 5-line sale's lines INSERT has 105 parameters; psycopg re-parses statements above its
    cache limit on every execution (20 % of the server's CPU, measured with py-spy)."""
    from psycopg import _queries

    from patron.sales.sql import LINE_COLUMNS

    assert 5 * len(LINE_COLUMNS) <= _queries.MAX_CACHED_STATEMENT_PARAMS
