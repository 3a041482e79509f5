"""The demo's members sit in the tiers their history earns (issue 15, item 4)."""

from __future__ import annotations

import pytest

from patron.cards import tiers
from patron.cards.models import Membership
from patron.demo.services import create_demo
from patron.members.models import Member
from patron.promotions.models import Tier, TierChange

pytestmark = [pytest.mark.django_db]


def test_demo_members_sit_in_the_tiers_their_history_earns():
    merchant = create_demo(members=120).merchant
    facts = tiers.facts(merchant)
    silver = Tier.objects.get(merchant=merchant, code="silver")
    threshold = silver.upgrade_when["spend_12m"]
    members = list(Member.objects.filter(merchant=merchant).select_related("tier"))
    earning = [m for m in members if facts.get(m.pk, {}).get("spend_12m", 0) >= threshold]
    assert earning, "the demo history should earn some members a tier"
    on_rank_0 = [m.pk for m in earning if m.tier_id is None or m.tier.rank == 0]
    assert on_rank_0 == []
    # Nobody sits above what the rules give, but for the tier a paid membership (SVIP) grants
    # while it runs: every tier held was earned or bought, and recorded.
    paying = set(
        Membership.objects.filter(merchant=merchant, status=Membership.Status.ACTIVE).values_list(
            "member_id", flat=True
        )
    )
    assert paying, "the demo seeds a few SVIP members"
    for m in members:
        if m.tier_id is not None and m.pk not in paying:
            assert tiers.earned_tier(m).rank >= m.tier.rank
            assert TierChange.objects.filter(member=m, to_tier=m.tier).exists()
