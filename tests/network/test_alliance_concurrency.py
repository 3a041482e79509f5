"""Many processes exchanging one member's points at once (PostgreSQL): never more points out
than the member held, every exchange whole on both sides, both merchants' reconcile 0."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from patron.core.errors import DomainError
from patron.members.models import Member
from patron.network import alliance_services as services
from patron.network.models import Alliance, AllianceExchange, MemberTwin
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_merchant
from tests.network.alliance_support import member_with_points, points_of, reconciled
from tests.sales.test_concurrency import in_processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 8
TRIES = 3
HELD = 1000
EACH = 100  # 8 × 3 × 100 = 2,400 asked for, 1,000 held: 10 succeed


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def exchange_many(alliance_id: int, member_id: int, index: int) -> list[tuple[str, int | None]]:
    outcomes: list[tuple[str, int | None]] = []
    member = Member.objects.select_related("merchant").get(pk=member_id)
    actor = Actor.system(member.merchant)
    alliance = Alliance.objects.select_related("proposer", "partner").get(pk=alliance_id)
    for attempt in range(TRIES):
        try:
            made = services.exchange(actor, alliance, member, EACH, key=f"race-{index}-{attempt}")
            outcomes.append(("ok", made.pk))
        except DomainError as error:
            outcomes.append((error.code, None))
        except Exception as error:  # a deadlock or an IntegrityError fails the test
            outcomes.append((f"unexpected: {type(error).__name__}: {error}", None))
    return outcomes


def test_racing_exchanges_never_take_more_than_held():
    acme = create_merchant("race-a", "Race A")
    tea = create_merchant("race-b", "Race B")
    wang = member_with_points(acme, "13700000001", HELD)
    alliance = services.propose(Actor.system(acme), "race-b", 100, 80)
    services.act(Actor.system(tea), alliance, "accept")

    outcomes = in_processes(RACERS, lambda i: exchange_many(alliance.pk, wang.pk, i))

    codes = Counter(code for code, _ in outcomes)
    assert codes == Counter({"ok": HELD // EACH, "insufficient_points": RACERS * TRIES - 10}), codes
    assert points_of(wang) == 0
    [twin] = Member.objects.filter(merchant=tea)  # registered once, by whichever came first
    assert points_of(twin) == HELD * 80 // 100
    assert MemberTwin.objects.get(member=wang).twin == twin
    assert AllianceExchange.objects.count() == HELD // EACH
    assert reconciled(acme, tea)
    assert (
        Merchant.objects.get(pk=tea.pk).card_prefix != Merchant.objects.get(pk=acme.pk).card_prefix
    )
