"""Many OS processes spending one balance at once never overspend (PostgreSQL only).

8 processes each try 50 payments of 30 fen from 10,000 fen: exactly 333 succeed, the balance
ends at 10 fen, the others get `insufficient_balance`, and nothing else (no deadlock) leaks.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from django.db import connection, connections

from patron.core.errors import DomainError
from patron.ledger import selectors, services
from patron.ledger.models import Account, Asset, Transaction
from patron.members.models import Member
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_merchant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROCESSES, TRIES, PRICE, START = 8, 50, 30, 10_000


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def spend_many(args: tuple[str, int, int, str]) -> Counter:
    """Runs in a child process: its own database connection, its own attempts."""
    operation, merchant_id, member_id, worker = args
    connections.close_all()
    merchant = Merchant.objects.get(pk=merchant_id)
    member = Member.objects.get(pk=member_id)
    actor = Actor.system(merchant)
    outcomes: Counter = Counter()
    for attempt in range(TRIES):
        key = f"{operation}-{worker}-{attempt}"
        try:
            if operation == "pay":
                services.pay_stored_value(actor, member, PRICE, key=key)
            elif operation == "spend":
                services.spend_points(actor, member, PRICE, key=key)
            else:
                services.top_up(actor, member, 5000, key="one-key")
            outcomes["ok"] += 1
        except DomainError as error:
            outcomes[error.code] += 1
        except Exception as error:  # anything else is a failure of the test
            outcomes[f"unexpected: {type(error).__name__}: {error}"] += 1
    connections.close_all()
    return outcomes


def run_in_processes(operation: str, merchant: Merchant, member: Member) -> Counter:
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        results = pool.map(
            spend_many, [(operation, merchant.pk, member.pk, str(i)) for i in range(PROCESSES)]
        )
    return sum(results, Counter())


@pytest.fixture
def member_and_actor():
    merchant = create_merchant("race", "Race Co")
    actor = Actor.system(merchant)
    return register_member(actor, {"mobile": "13800138000"}), actor


def test_stored_value_is_never_overspent(member_and_actor):
    member, actor = member_and_actor
    services.top_up(actor, member, START, key="fund")
    outcomes = run_in_processes("pay", actor.merchant, member)
    assert outcomes == Counter(
        {"ok": START // PRICE, "insufficient_balance": PROCESSES * TRIES - START // PRICE}
    )
    account = Account.objects.get(member=member, asset=Asset.PRINCIPAL)
    assert account.balance == START % PRICE == 10
    assert selectors.reconcile(actor.merchant) == []


def test_points_are_never_overspent(member_and_actor):
    member, actor = member_and_actor
    services.earn_points(actor, member, START, key="fund")
    outcomes = run_in_processes("spend", actor.merchant, member)
    assert outcomes == Counter({"ok": 333, "insufficient_points": PROCESSES * TRIES - 333})
    assert Account.objects.get(member=member, asset=Asset.POINTS).balance == 10
    assert selectors.reconcile(actor.merchant) == []


def test_one_topup_key_sent_from_many_processes_posts_once(member_and_actor):
    member, actor = member_and_actor
    outcomes = run_in_processes("topup", actor.merchant, member)
    assert outcomes == Counter({"ok": PROCESSES * TRIES})
    assert Transaction.objects.filter(merchant=actor.merchant, kind="topup").count() == 1
    assert Account.objects.get(member=member, asset=Asset.PRINCIPAL).balance == 5000
    assert selectors.reconcile(actor.merchant) == []
