"""Sign-ups racing for the last places in separate OS processes (PostgreSQL only): never more
confirmed than the capacity, everyone else waitlisted in a line without gaps."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from patron.activities import events_service as service
from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.core.errors import DomainError
from patron.members.models import Member
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from tests.sales.test_concurrency import in_processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 12
CAPACITY = 5


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def sign_up(merchant_id: int, member_id: int) -> tuple[str, None]:
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    event = MemberOnlyEvent.objects.get(merchant_id=merchant_id, code="TEA")
    member = Member.objects.get(pk=member_id)
    try:
        return service.sign_up(actor, event, member).status, None
    except DomainError as error:
        return error.code, None


def test_concurrent_sign_ups_never_exceed_capacity(system, stores):
    service.create_event(
        system,
        "TEA",
        service.EventInput(
            name="品茶会",
            starts_at=timezone.now() + dt.timedelta(days=3),
            place="西湖店",
            capacity=CAPACITY,
        ),
    )
    members = [
        register_member(system, {"mobile": f"139000000{i:02d}", "name": f"会员{i}"}).pk
        for i in range(RACERS)
    ]
    merchant_id = system.merchant.pk

    # Each process signs up its own member, and then tries the same member again.
    outcomes = in_processes(
        RACERS,
        lambda i: [sign_up(merchant_id, members[i]), sign_up(merchant_id, members[i])],
    )

    assert Counter(code for code, _ in outcomes) == Counter(
        {"confirmed": CAPACITY, "waitlisted": RACERS - CAPACITY, "already_signed_up": RACERS}
    ), outcomes
    assert EventSignup.objects.filter(status="confirmed").count() == CAPACITY
    waiting = list(EventSignup.objects.filter(status="waitlisted").order_by("signed_up_at", "pk"))
    assert [service.waitlist_position(s) for s in waiting] == list(range(1, len(waiting) + 1))

    # Cancelling all confirmed at once moves exactly that many up, first come first served.
    confirmed = list(EventSignup.objects.filter(status="confirmed").values_list("pk", flat=True))

    def cancel(i: int):
        if i >= len(confirmed):
            return []
        signup = EventSignup.objects.select_related("event").get(pk=confirmed[i])
        service.cancel(Actor.system(Merchant.objects.get(pk=merchant_id)), signup)
        return [("cancelled", None)]

    in_processes(RACERS, cancel)
    now_confirmed = set(EventSignup.objects.filter(status="confirmed").values_list("pk", flat=True))
    assert now_confirmed == {s.pk for s in waiting[:CAPACITY]}
