"""Stats windows (issue 16 item 2): 12-month spend net of refunds, visits, the member's own
cycle; by the refresh step and by the member's own sales and refunds."""

from __future__ import annotations

import pytest

from patron.insight import stats
from patron.sales.models import Sale
from tests.insight.scores_support import insight, local, member, refund, sale

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AS_OF = local(2026, 6, 15, 0, 0)  # start of 15 June, Shanghai


def test_windows_count_the_rolling_year_net_of_refunds(system, stores):
    ann = member(system, "13800000001", joined=local(2024, 1, 1))
    sale(ann, 10000, local(2025, 6, 15, 23, 0))  # 15 June a year before: outside
    inside = sale(ann, 20000, local(2025, 6, 16, 0, 30))  # 16 June: the window's first day
    sale(ann, 5000, local(2026, 6, 14, 23, 59))
    refund(inside, 3000, local(2026, 1, 1))
    sale(
        ann,
        99000,
        local(
            2026,
            6,
            15,
            0,
            0,
        ),
    )  # at as_of: counted (up to and including)
    sale(ann, 7000, local(2026, 6, 16))  # after as_of: not yet
    stats.refresh_stats(system.merchant, AS_OF)
    found = insight(ann)
    assert found.spend_12m == 20000 - 3000 + 5000 + 99000
    assert found.visits_12m == 3
    assert found.purchase_days == 4  # 2025-06-15, 2025-06-16, 2026-06-14, 2026-06-15
    assert found.last_purchase_at == local(2026, 6, 15, 0, 0)


def test_a_sale_refunded_in_full_is_neither_a_visit_nor_spend(system, stores):
    bob = member(system, "13800000002")
    gone = sale(bob, 8000, local(2026, 5, 1), status=Sale.Status.REFUNDED)
    refund(gone, 8000, local(2026, 5, 2))
    sale(bob, 1000, local(2026, 4, 1))
    stats.refresh_stats(system.merchant, AS_OF)
    found = insight(bob)
    assert (found.spend_12m, found.visits_12m, found.purchase_days) == (1000, 1, 1)
    assert found.last_purchase_at == local(2026, 4, 1)
    assert found.cycle_days is None  # one purchase day: no cycle


def test_the_cycle_is_days_between_first_and_last_purchase_day_over_the_gaps(system, stores):
    cat = member(system, "13800000003")
    # Days in Shanghai: 1 March (twice, once at 00:30 local = 28 Feb UTC), 11 March, 31 March.
    sale(cat, 100, local(2026, 3, 1, 0, 30))
    sale(cat, 100, local(2026, 3, 1, 22, 0))
    sale(cat, 100, local(2026, 3, 11))
    sale(cat, 100, local(2026, 3, 31))
    stats.refresh_stats(system.merchant, AS_OF)
    found = insight(cat)
    assert found.purchase_days == 3
    assert found.cycle_days == pytest.approx(15.0)  # 30 days / 2 gaps
    assert found.visits_12m == 4  # visits are sales, not days (as the tier rules count them)


def test_every_member_gets_a_row_even_without_a_sale(system, stores):
    dan = member(system, "13800000004")
    written = stats.refresh_stats(system.merchant, AS_OF)
    assert written == 1
    found = insight(dan)
    assert (found.spend_12m, found.visits_12m, found.purchase_days) == (0, 0, 0)
    assert found.last_purchase_at is None and found.cycle_days is None


def test_live_sales_and_refunds_keep_the_windows_current(system, stores):
    from patron.program.services import apply_program
    from patron.sales import services as sales

    apply_program(system, {"categories": ["dishes"]})
    eve = member(system, "13800000005")

    def sell(*prices: int) -> Sale:
        return sales.commit_sale(
            system,
            sales.SaleRequest(
                lines=[
                    sales.LineInput(sku=f"DISH{i}", category="dishes", unit_price=price)
                    for i, price in enumerate(prices)
                ],
                member=eve.pk,
                store="S1",
            ),
        )

    first = sell(3000, 2000)
    second = sell(1500)
    found = insight(eve)
    assert (found.spend_12m, found.visits_12m, found.purchase_days) == (6500, 2, 1)
    assert found.lifecycle == "excited"
    sales.refund_sale(system, first, sales.RefundAsk(lines=(("DISH1", 1),)))
    found = insight(eve)
    assert (found.spend_12m, found.visits_12m) == (4500, 2)  # part refunded: still a visit
    sales.refund_sale(system, second, sales.RefundAsk(all=True))
    found = insight(eve)
    assert (found.spend_12m, found.visits_12m) == (3000, 1)  # refunded in full: no visit
    assert found.last_purchase_at == first.occurred_at


def test_a_second_refresh_leaves_unchanged_members_untouched(system, stores):
    fay = member(system, "13800000006")
    sale(fay, 1000, local(2026, 5, 1))
    assert stats.refresh_stats(system.merchant, AS_OF) == 1
    written_at = insight(fay).computed_at
    assert stats.refresh_stats(system.merchant, AS_OF) == 0
    assert insight(fay).computed_at == written_at
    sale(fay, 500, local(2026, 6, 1))
    assert stats.refresh_stats(system.merchant, AS_OF) == 1
    assert insight(fay).spend_12m == 1500
