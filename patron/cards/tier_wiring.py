"""What the tier part of cards registers with the apps below it (hooks, guards, profile facts
and panels, audit sentences, import columns), called once from CardsConfig.ready()."""

from __future__ import annotations


def register() -> None:
    from patron.cards import tier_views, tiers
    from patron.members import hooks, profile
    from patron.sales.selectors import add_member_card_section

    hooks.add_activity_handler(tiers.on_activity)
    profile.add_fact(profile.Fact("tier_progress", tiers.tier_progress_fact, in_lists=False))
    profile.add_fact(profile.Fact("tier_benefits", tier_views.benefits_fact, in_lists=False))
    profile.add_panel(profile.Panel("side", tier_views.member_tier_panel, order=21))
    add_member_card_section(tier_views.till_section)
