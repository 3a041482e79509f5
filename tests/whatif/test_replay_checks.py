"""The replay is faithful (the current program gives what was recorded, or says which sales
differ), reads only, and answers a range with nothing in it with zeros (issue 22)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from patron.program.services import apply_program, export_program
from patron.promotions.services import issue_coupon
from patron.sales import services as sales
from patron.wallet.services import top_up
from patron.whatif import services as whatif
from tests.whatif.support import draft, member, run, sell, setup, tiers_with, today

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
