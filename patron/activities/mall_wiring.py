"""What the mall part registers from above at start-up: the `rewards` section, the words and
links of its ledger movements, the cash part for the shift close."""

from __future__ import annotations


def register() -> None:
    """Called once from ActivitiesConfig.ready()."""
    from patron.activities import mall_program, mall_selectors, mall_views
    from patron.ledger import references
    from patron.sales.selectors import add_member_card_section
    from patron.shifts.selectors import add_takings

    mall_program.register()
    references.add_source_reason(mall_selectors.SOURCE, mall_selectors.REASON)
    references.add_resolver(mall_selectors.SOURCE, mall_selectors.ledger_references)
    add_takings(mall_selectors.TAKINGS_GROUP, mall_selectors.TAKINGS_LABEL, mall_selectors.takings)
    add_member_card_section(mall_views.till_section)
