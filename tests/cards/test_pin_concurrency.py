"""Ten wrong PINs at once from ten processes (PostgreSQL only): exactly five are counted, none
is accepted, and the right PIN is refused while the PIN is locked."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from django.db import connection, connections

from patron.cards import pins
from patron.core.errors import DomainError
from patron.members.models import Member
from patron.members.services import register_member
from patron.sales.models import MemberPin
from patron.sales.services import verify_pin
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_merchant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TRIES = 10


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def try_wrong_pin(args: tuple[int, int]) -> str:
    """Runs in a child process: its own connection, one wrong PIN."""
    merchant_id, member_id = args
    connections.close_all()
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    try:
        verify_pin(actor, Member.objects.get(pk=member_id), "000001")
        outcome = "accepted"
    except DomainError as error:
        outcome = error.code
    except Exception as error:  # anything else is a failure of the test
        outcome = f"unexpected: {type(error).__name__}: {error}"
    connections.close_all()
    return outcome


def test_ten_concurrent_wrong_pins_count_five():
    merchant = create_merchant("pins", "Pin Co")
    actor = Actor.system(merchant)
    member = register_member(actor, {"mobile": "13800138000"})
    pins.set_member_pin(actor, member, "135790")
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(TRIES) as pool:
        outcomes = Counter(pool.map(try_wrong_pin, [(merchant.pk, member.pk)] * TRIES))
    # Four wrong, the fifth locks, the other five find it locked: none accepted.
    assert outcomes == Counter({"pin_invalid": 4, "pin_locked": 6})
    record = MemberPin.objects.get(member=member)
    assert record.failed_attempts == 5 and record.locked_until is not None
    with pytest.raises(DomainError) as locked:
        verify_pin(actor, member, "135790")
    assert locked.value.code == "pin_locked"
