"""The demo's members sit in the tiers their history earns (issue 15, item 4)."""

from __future__ import annotations

import pytest

from patron.cards import tiers
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
    # Nobody sits above what the rules give: every tier held was earned and recorded.
    for m in members:
        if m.tier_id is not None:
            assert tiers.earned_tier(m).rank >= m.tier.rank
            assert TierChange.objects.filter(member=m, to_tier=m.tier).exists()
