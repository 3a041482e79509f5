"""What the lottery part registers from above at start-up (program sections, hooks, references)."""

from django.utils.translation import pgettext_lazy


def register() -> None:
    """Called once from ActivitiesConfig.ready(). Owner: the lottery part."""
    from patron.activities import lottery, lottery_program
    from patron.ledger import references
    from patron.program.services import register_section

    register_section(
        lottery_program.SECTION,
        lottery_program.Lotteries,
        lottery_program.plan_lotteries,
        lottery_program.export_lotteries,
    )
    # Movements of points caused by a draw (its cost, a points prize) are named by it: a draw's
    # cost is a spend, which would otherwise read as points used as cash.
    references.add_source_reason(lottery.SOURCE, pgettext_lazy("ledger reason", "Lottery"))
