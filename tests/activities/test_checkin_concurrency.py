"""A double tap on the check-in button, on PostgreSQL: many check-ins of one member at once
make one row and pay once; the others are 409 `already_checked_in`. A referrer's monthly cap
holds when their friends' first sales commit at once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from patron.activities import checkin
from patron.activities.models import CheckIn
from patron.core.errors import DomainError
from patron.ledger import selectors as ledger_selectors
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def race(job) -> list[str]:
    barrier = threading.Barrier(RACERS)
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            outcome = job()
        except DomainError as error:
            outcome = error.code
        except Exception as error:  # a deadlock or a crash fails the test
            outcome = f"unexpected: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_double_tap_checks_in_once(system, stores):
    apply_program(system, {"checkin": {"points": 5}})
    member = register_member(system, {"mobile": "13900004444", "store": "S1"})
    merchant_id, member_id = system.merchant.pk, member.pk

    def tap() -> str:
        actor = Actor.system(Merchant.objects.get(pk=merchant_id))
        checkin.check_in(actor, Member.objects.get(pk=member_id))
        return "ok"

    outcomes = Counter(race(tap))
    assert outcomes == {"ok": 1, "already_checked_in": RACERS - 1}
    assert CheckIn.objects.filter(member=member).count() == 1
    assert ledger_selectors.member_balances(member)["points"]["available"] == 5
    assert reconcile() == []
