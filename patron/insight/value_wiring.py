"""What the value part of insight registers with the apps below and the refresh: the
`value` refresh step (BG/NBD and Gamma-Gamma, F-34), the member body's `value` fact and the
member page's value card."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from patron.members import profile
from patron.members.models import Member


def value_fact(member: Member) -> dict[str, Any] | None:
    """API.md §8: {p_alive, expected_visits_90d, expected_value_90d (fen)}, or None for a
    member not scored (no purchase yet, or no fit for the merchant)."""
    try:
        insight = member.insight
    except ObjectDoesNotExist:
        return None
    if insight.p_alive is None:
        return None
    return {
        "p_alive": float(insight.p_alive),
        "expected_visits_90d": insight.expected_visits_90d,
        "expected_value_90d": insight.expected_value_90d,
    }


def register() -> None:
    """Called once from InsightConfig.ready()."""
    from patron.insight.clv.fitting import value_step
    from patron.insight.refresh import add_step
    from patron.insight.value_views import value_panel

    add_step("value", 40, value_step)
    profile.add_fact(profile.Fact("value", value_fact, in_lists=False))
    profile.add_panel(profile.Panel("side", value_panel, order=40))
