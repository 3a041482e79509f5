"""The replay is faithful (the current program gives what was recorded, or says which sales
differ), reads only, and answers a range with nothing in it with zeros (issue 22)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from patron.program.services import apply_program, export_program
from patron.promotions.services import issue_coupon
from patron.sales import services as sales
from patron.sales.models import Sale
from patron.wallet.services import top_up
from patron.whatif import services as whatif
from tests.whatif.support import SH, draft, member, run, sell, setup, tiers_with, today

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def shop(system, stores):
    setup(system)
    return system


def mixed_history(shop) -> list:
    """Members and walk-ins at both stores: tier prices, a coupon, points paid, refunds,
    a top-up that lifts a member to gold."""
    tea = {
        "code": "tea_week",
        "name": "茶饮周",
        "kind": "automatic",
        "benefit": {"type": "percent", "value": 10},
        "condition": {"categories": ["dishes"], "min_amount": 10000},
    }
    apply_program(shop, {"promotions": [tea]})
    a, b = member(shop, "13800138011"), member(shop, "13800138012", "S2")
    sold = [
        sell(shop, a, [("DISH", "dishes", 60000), ("ROOM", "rooms", 50000)], "a1"),
        sell(shop, a, [("ROOM", "rooms", 70000)], "a2"),  # silver from here
        sell(shop, a, [("ROOM", "rooms", 30000)], "a3", points=1000),
        sell(shop, None, [("DISH", "dishes", 12000)], "w1", store="S2"),
    ]
    coupon = issue_coupon(shop, b, "c20")
    sold.append(sell(shop, b, [("DISH", "dishes", 9000)], "b1", store="S2", codes=[coupon.code]))
    top_up(shop, b, 300000, key="t1")  # above gold's keep? gold is reached by spend only
    sold.append(sell(shop, b, [("ROOM", "rooms", 400000)], "b2", store="S2"))  # gold after
    sold.append(
        sell(shop, b, [("ROOM", "rooms", 100000), ("DISH", "dishes", 20000)], "b3", store="S2")
    )
    sales.refund_sale(shop, sold[1], sales.RefundAsk(all=True), key="r1")
    sales.refund_sale(shop, sold[-1], sales.RefundAsk(lines=(("DISH", 1),)), key="r2")
    return sold


def test_the_current_program_replays_every_recorded_sale_to_the_fen(shop):
    sold = mixed_history(shop)
    result = run(shop, export_program(shop))

    assert result.sales == len(sold)
    assert result.compared == len(sold)
    assert result.differences == []
    diff = result.as_dict()["diff"]
    assert {k: v for k, v in diff.items() if not isinstance(v, dict)} == dict.fromkeys(
        whatif.FIGURES, 0
    )
    recorded_revenue = sum(sale.total for sale in sold)
    assert result.current.figures["revenue"] == recorded_revenue
    assert result.current.figures["points_earned"] == sum(s.points_earned for s in sold)
    assert result.current.figures["points_redeemed"] == 1000
    assert result.current.figures["by_tier"] == {"normal": 0, "silver": 1, "gold": 1}


def test_a_promotion_edited_since_is_listed_sale_by_sale(shop):
    ten = {
        "code": "ten",
        "name": "九折",
        "kind": "automatic",
        "benefit": {"type": "percent", "value": 10},
        "condition": {"categories": ["dishes"]},
    }
    apply_program(shop, {"promotions": [ten]})
    sale = sell(shop, None, [("DISH", "dishes", 10000)], "w1")
    apply_program(shop, {"promotions": [{**ten, "benefit": {"type": "percent", "value": 20}}]})

    result = run(shop, export_program(shop))

    assert result.compared == 1 and result.differing_sales == 1
    found = {(d.sale_id, d.field): (d.recorded, d.replayed) for d in result.differences}
    assert found[(sale.pk, "discount")] == (1000, 2000)
    assert found[(sale.pk, "total")] == (9000, 8000)
    assert "1" in result.faithful_line()


def test_one_store_only(shop):
    a = member(shop, "13800138021")
    sell(shop, a, [("DISH", "dishes", 10000)], "s1")
    sell(shop, a, [("DISH", "dishes", 20000)], "s2", store="S2")
    result = run(shop, export_program(shop), store="S2")
    assert result.sales == 1
    assert result.current.figures["revenue"] == 20000
    assert list(result.current.stores) == ["S2"]


def test_a_range_without_sales_answers_zeros_and_counts_the_members(shop):
    member(shop, "13800138031")
    member(shop, "13800138032")
    last_year = today() - dt.timedelta(days=400)
    asked = whatif.question(shop, last_year, last_year + dt.timedelta(days=10))
    result = whatif.simulate(shop, export_program(shop), asked)
    assert result.sales == 0
    for side in (result.current, result.draft):
        assert {k: side.figures[k] for k in whatif.FIGURES} == dict.fromkeys(whatif.FIGURES, 0)
        assert side.figures["by_promotion"] == {}
        assert side.figures["by_tier"] == {"normal": 2, "silver": 0, "gold": 0}


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_nothing_is_written(shop):
    mixed_history(shop)
    before = row_counts()
    document = draft(shop, tiers=tiers_with(shop, "silver", discount={"rooms": 70}))
    result = run(shop, document)
    assert result.as_dict()["diff"]["member_discount"] > 0
    assert row_counts() == before
    assert export_program(shop)["tiers"][1]["discount"] == {"rooms": 88}


def test_sales_keyed_in_late_are_priced_by_the_tier_held_when_they_were_taken(shop):
    """A sale backdated before the one that lifted the member was still priced silver at the
    till: the replay walks sales in the order they were taken (docs/whatif.md)."""
    from django.utils import timezone

    now = timezone.now()
    a = member(shop, "13800138051")
    first = sales.commit_sale(
        shop,
        sales.SaleRequest(
            lines=[sales.LineInput(sku="DISH", category="dishes", unit_price=100000)],
            member=a.pk,
            store="S1",
            occurred_at=now - dt.timedelta(days=10),
        ),
        key="late1",
    )
    late = sales.commit_sale(
        shop,
        sales.SaleRequest(
            lines=[sales.LineInput(sku="ROOM", category="rooms", unit_price=50000)],
            member=a.pk,
            store="S1",
            occurred_at=now - dt.timedelta(days=20),
        ),
        key="late2",
    )
    assert first.member_discount == 0 and late.member_discount == 6000  # silver by then

    result = run(shop, export_program(shop))
    assert result.compared == 2
    assert result.differences == []


def test_a_limited_offer_sells_out_in_the_order_the_sales_were_taken(shop):
    flash = {
        "code": "flash",
        "name": "限量特价",
        "kind": "automatic",
        "benefit": {"type": "fixed_price", "value": 5000, "skus": ["TEA"]},
        "limits": {"total": 2},
    }
    apply_program(shop, {"promotions": [flash]})
    a, b = member(shop, "13800138061"), member(shop, "13800138062")
    tea = [("TEA", "dishes", 16800)]
    got = [
        sell(shop, a, tea, "f1").discount,
        sell(shop, None, tea, "f2").discount,  # a walk-in takes the second
        sell(shop, b, tea, "f3").discount,  # sold out
    ]
    assert got == [11800, 11800, 0]

    same = run(shop, export_program(shop))
    assert same.compared == 3 and same.differences == []
    more = run(shop, draft(shop, promotions=[{**flash, "limits": {"total": 3}}]))
    assert more.as_dict()["diff"]["discount"] == 11800
    assert more.draft.figures["by_promotion"] == {"flash": 3 * 11800}


def test_grace_periods_and_the_rolling_window_as_the_nightly_review_ran_them(shop):
    """Silver kept by a year-old stay: it leaves the rolling 12 months at midnight 15 days ago,
    the real nightly review (cards.tiers.review) starts the grace period that night and takes
    silver away 7 nights later, between two sales. Replayed from before the stay left the
    window, and from inside the grace period, the current program gives what was recorded."""
    from django.utils import timezone

    from patron.cards import tiers as card_tiers
    from patron.promotions.models import Tier, TierChange
    from patron.promotions.services import change_member_tier

    keep = {"keep_when": {"spend_12m": 50000}, "grace_days": 7}
    apply_program(
        shop, {"tiers": tiers_with(shop, "silver", **keep), "checkout": {"backdate_days": 30}}
    )
    day = today()

    def local(days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
        on = day - dt.timedelta(days=days_ago)
        return dt.datetime(on.year, on.month, on.day, hour, minute, tzinfo=SH)

    a = member(shop, "13800138061")
    stay = local(15, 12) - dt.timedelta(days=365)  # its window ends at midnight 15 days ago
    sold = {}

    def sell_at(key: str, at: dt.datetime, price: int = 30000) -> None:
        request = sales.SaleRequest(
            lines=[sales.LineInput(sku="ROOM", category="rooms", unit_price=price)],
            member=a.pk,
            store="S1",
            occurred_at=max(at, timezone.now() - dt.timedelta(days=29)),
        )
        sold[key] = sales.commit_sale(shop, request, key=key)
        # As if taken then (the till back-dates a month at most).
        Sale.objects.filter(pk=sold[key].pk).update(occurred_at=at, created_at=at)

    sell_at("stay", stay, 60000)
    silver = Tier.objects.get(merchant=shop.merchant, code="silver")
    change_member_tier(shop, a, silver, TierChange.Reason.MANUAL, at=stay + dt.timedelta(hours=1))
    for days_ago in range(18, 0, -1):  # the nights from before the stay left to yesterday
        card_tiers.review(shop.merchant, as_of=local(days_ago, 3, 30))
        if days_ago in (9, 8):
            sell_at(f"room{days_ago}", local(days_ago, 12))
    assert sold["room9"].member_discount == 3600  # silver, in grace (264 yuan keeps nothing)
    assert sold["room8"].member_discount == 0  # down 8 nights ago, at 03:30

    for first in (day - dt.timedelta(days=17), day - dt.timedelta(days=12)):
        asked = whatif.question(shop, first, day - dt.timedelta(days=1))
        result = whatif.simulate(shop, export_program(shop), asked)
        assert result.compared == 2
        assert result.differences == []
        assert result.current.tiers[a.pk] == "normal"


def test_baskets_read_as_texts_are_the_baskets_read_line_by_line(shop):
    """On PostgreSQL the lines come as one text per sale (history._lines_as_texts): the very
    baskets of the row-by-row read, equal baskets one tuple, lines in their order."""
    from django.db import connection
    from django.utils import timezone

    from patron.whatif import history

    if connection.vendor != "postgresql":
        pytest.skip("the aggregated read is PostgreSQL's")
    mixed_history(shop)
    sell(shop, None, [("DISH", "dishes", 12000)], "w2", store="S2")  # the same basket again
    now = timezone.now()
    in_range = history._in_range(shop.merchant, now - dt.timedelta(days=1), now, None)

    texts = history._lines_as_texts(in_range)

    assert texts == history._lines_by_row(in_range)
    assert len(set(map(id, texts.values()))) == len(set(texts.values()))
