"""What the lifecycle part of insight registers with the apps below and the refresh: the
`insight` program section, the lifecycle and RFM refresh steps, and the member's lifecycle,
RFM and cycle in the API body, on the member page and in the member list."""

from __future__ import annotations

from patron.insight import lifecycle, program, rfm, scores_profile
from patron.insight.refresh import add_step
from patron.members import profile


def register() -> None:
    """Called once from InsightConfig.ready()."""
    program.register()
    add_step("lifecycle", 20, lifecycle.lifecycle_step)
    add_step("rfm", 30, rfm.rfm_step)
    profile.add_fact(
        profile.Fact(
            "lifecycle", scores_profile.lifecycle_fact, prepare=scores_profile.with_insight
        )
    )
    profile.add_fact(
        profile.Fact("rfm", scores_profile.rfm_fact, prepare=scores_profile.with_insight)
    )
    profile.add_fact(
        profile.Fact("cycle_days", scores_profile.cycle_fact, prepare=scores_profile.with_insight)
    )
    profile.add_panel(profile.Panel("side", scores_profile.scores_panel, order=7))
    profile.add_column(scores_profile.LIFECYCLE_COLUMN)
