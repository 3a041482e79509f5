"""Limited offers (API.md §11): the program section, the quote's `rejected`, commits that take
and refunds that give back, the day in the merchant's zone, a take lost at commit, the till."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.test import Client
from django.utils import timezone

from patron.core.errors import ValidationFailed
from patron.engine import pricing
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.program.services import apply_program, export_sections
from patron.promotions import limits
from patron.promotions.models import LimitTake, Promotion, PromotionStock, PromotionUse
from patron.sales import selectors as sale_selectors
from patron.sales.services import LineInput, RefundAsk, SaleRequest, commit_sale, price, refund_sale
from tests.sales.conftest import PROGRAM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEA = {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000}
FLASH = {
    "code": "flash-tea",
    "name": "龙井秒杀",
    "kind": "automatic",
    "benefit": {"type": "fixed_price", "value": 990, "skus": ["TEA-LJ"]},
    "limits": {"total": 2, "per_member": 1},
}


def program_with(*promotions: dict) -> dict:
    return {**PROGRAM, "promotions": [*PROGRAM["promotions"], *promotions]}


@pytest.fixture
def flash(system, stores):
    apply_program(system, program_with(FLASH))
    return Promotion.objects.get(code="flash-tea")


def buyer(system, n: int):
    return register_member(system, {"mobile": f"1390013{n:04d}", "store": "S1"})


def request(member, quantity: int = 1, at: dt.datetime | None = None, **extra) -> SaleRequest:
    line = LineInput(**{**TEA, "quantity": quantity})
    member_id = None if member is None else member.pk
    return SaleRequest(lines=[line], member=member_id, store="S1", occurred_at=at, **extra)


def rejected(quote: pricing.Quote) -> list[tuple[str, str]]:
    return [(r.code, r.reason) for r in quote.rejected]


def stock(promotion: Promotion) -> int:
    found = PromotionStock.objects.filter(promotion=promotion).values_list("sold", flat=True)
    return found.first() or 0


# --- the program file ------------------------------------------------------------------------


def test_limits_apply_export_and_apply_again_without_change(system, flash):
    exported = export_sections(system, ["promotions"])["promotions"]
    row = next(r for r in exported if r["code"] == "flash-tea")
    assert row["limits"] == {"total": 2, "per_member": 1}
    again = apply_program(system, yaml.safe_load(yaml.safe_dump({"promotions": exported})))
    assert again == []
    assert Promotion.objects.get(code="flash-tea").limits == {"total": 2, "per_member": 1}


def test_the_api_md_example_shape_is_accepted(system, stores):
    """API.md §11 writes the window on the promotion itself."""
    row = {
        "code": "flash-tea",
        "name": "龙井秒杀",
        "kind": "automatic",
        "benefit": {"type": "fixed_price", "value": 990, "skus": ["TEA-LJ"]},
        "limits": {"total": 100, "per_member": 1, "per_member_per_day": 1},
        "starts_at": "2027-03-02T10:00:00",
        "ends_at": "2027-03-02T12:00:00",
    }
    apply_program(system, {"promotions": [row]})
    stored = Promotion.objects.get(code="flash-tea")
    assert stored.starts_at == dt.datetime(2027, 3, 2, 10, tzinfo=SHANGHAI)
    assert stored.limits == {"total": 100, "per_member": 1, "per_member_per_day": 1}


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ({"total": 0}, "promotions[2].limits.total"),
        ({"per_member": -1}, "promotions[2].limits.per_member"),
        ({"per_member_per_day": "x"}, "promotions[2].limits.per_member_per_day"),
        ({"total": 1.5}, "promotions[2].limits.total"),
        ({"weekly": 3}, "promotions[2].limits.weekly"),
    ],
)
def test_bad_limits_reject_the_file_with_their_path(system, stores, given, path):
    with pytest.raises(ValidationFailed) as refused:
        apply_program(system, program_with({**FLASH, "limits": given}))
    assert path in [error.field for error in refused.value.errors]
    assert not Promotion.objects.filter(code="flash-tea").exists()


# --- quote, commit, refund -------------------------------------------------------------------


def test_quote_lists_sold_out_and_limit_reached_and_writes_nothing(system, flash):
    first, second, third = (buyer(system, n) for n in (1, 2, 3))
    assert rejected(price(system, request(first)).quote) == []
    commit_sale(system, request(first))
    # The member's own limit: listed, the sale priced without it.
    again = price(system, request(first)).quote
    assert rejected(again) == [("flash-tea", "limit_reached")]
    assert again.total == 2000
    # Two units for one member of per_member 1: the whole promotion is left out.
    assert rejected(price(system, request(second, quantity=2)).quote) == [
        ("flash-tea", "limit_reached")
    ]
    commit_sale(system, request(second))
    sold_out = price(system, request(third)).quote
    assert rejected(sold_out) == [("flash-tea", "sold_out")]
    assert sold_out.applied == ()
    assert stock(flash) == 2


def test_a_walk_in_cannot_take_a_per_member_offer(system, flash):
    quote = price(system, request(None)).quote
    assert quote.applied == () and quote.rejected == ()


def test_commit_counts_and_a_refund_gives_the_unit_back(system, flash):
    first, second, third = (buyer(system, n) for n in (1, 2, 3))
    sales = [commit_sale(system, request(m)) for m in (first, second)]
    assert [s.total for s in sales] == [990, 990]
    late = commit_sale(system, request(third))
    assert late.total == 2000
    answer = sale_selectors.present_sale(late)
    assert answer["rejected"] == [{"code": "flash-tea", "reason": "sold_out"}]
    assert stock(flash) == 2

    refund_sale(system, sales[0], RefundAsk(all=True))
    assert stock(flash) == 1
    assert PromotionUse.objects.get(member=first, period="all").used == 0
    assert LimitTake.objects.get(sale_id=sales[0].pk).returned == 1
    # The next buyer gets the unit given back; the refunded member may buy again.
    assert commit_sale(system, request(third)).total == 990
    assert rejected(price(system, request(first)).quote) == [("flash-tea", "sold_out")]
    assert reconcile(system.merchant) == []


def test_an_idempotent_replay_takes_nothing_twice(system, flash):
    member = buyer(system, 1)
    first = commit_sale(system, request(member), key="till-1-000001")
    again = commit_sale(system, request(member), key="till-1-000001")
    assert again.pk == first.pk and again.replayed
    assert stock(flash) == 1
    assert PromotionUse.objects.get(member=member, period="all").used == 1


def test_per_member_per_day_counts_days_in_shanghai(system, stores):
    daily = {**FLASH, "limits": {"per_member_per_day": 1}}
    apply_program(system, program_with(daily))
    member = buyer(system, 1)
    now = timezone.now()
    day = now.astimezone(SHANGHAI).date()
    if dt.datetime.combine(day, dt.time(0, 10), SHANGHAI) > now - dt.timedelta(minutes=1):
        day -= dt.timedelta(days=1)
    late = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23, 50), SHANGHAI)
    early = dt.datetime.combine(day, dt.time(0, 10), SHANGHAI)  # the day before in UTC
    assert commit_sale(system, request(member, at=late), key="a").total == 990
    same_day = price(system, request(member, at=late + dt.timedelta(minutes=5))).quote
    assert rejected(same_day) == [("flash-tea", "limit_reached")]
    assert commit_sale(system, request(member, at=early), key="b").total == 990
    periods = dict(PromotionUse.objects.filter(member=member).values_list("period", "used"))
    before = (day - dt.timedelta(days=1)).isoformat()
    assert periods == {"all": 2, before: 1, day.isoformat(): 1}
    assert early.astimezone(dt.UTC).date() == late.astimezone(dt.UTC).date()


def test_a_take_lost_at_commit_prices_the_sale_without_the_offer(system, flash, monkeypatch):
    """Another till took the last unit between this sale's quote and its commit: the sale
    still commits, at the price without the offer, which its answer lists as sold out."""
    first, second, third = (buyer(system, n) for n in (1, 2, 3))
    commit_sale(system, request(first))
    real = limits.read_state
    stale = {"done": False}

    def before_the_other_till(merchant_id, member_id, promotions, period, refused=None):
        state = real(merchant_id, member_id, promotions, period, refused)
        if not stale["done"]:  # the quote saw one unit left; the other till takes it now
            stale["done"] = True
            commit_sale(system, request(second))
        return state

    monkeypatch.setattr(limits, "read_state", before_the_other_till)
    sale = commit_sale(system, request(third))
    assert sale.total == 2000
    assert sale_selectors.present_sale(sale)["rejected"] == [
        {"code": "flash-tea", "reason": "sold_out"}
    ]
    assert stock(flash) == 2
    assert not LimitTake.objects.filter(sale_id=sale.pk).exists()
    assert not PromotionUse.objects.filter(member=third).exclude(used=0).exists()


def test_the_api_quote_and_sale_answer_with_the_codes(api, system, flash):
    member = buyer(system, 1)
    body = {"member": member.pk, "store": "S1", "lines": [TEA]}
    sold = api.post("/api/v1/sales", body, content_type="application/json")
    assert sold.status_code == 201, sold.content
    quote = api.post("/api/v1/sales/quote", body, content_type="application/json")
    assert quote.json()["rejected"] == [{"code": "flash-tea", "reason": "limit_reached"}]
    again = api.post(
        "/api/v1/sales",
        json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert again.status_code == 201
    assert again.json()["rejected"] == [{"code": "flash-tea", "reason": "limit_reached"}]
    assert again.json()["total"] == 2000


# --- the till and the console ----------------------------------------------------------------


def logged_in(actor, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


def till_basket(member) -> dict:
    return {
        "key": str(uuid.uuid4()),
        "line_sku": [TEA["sku"]],
        "line_category": [TEA["category"]],
        "line_price": [str(TEA["unit_price"])],
        "line_qty": ["1"],
        "line_name": [""],
        "member": str(member.pk),
    }


@pytest.mark.parametrize(("language", "words"), [("zh-hans", "已达限购"), ("en", "Limit reached")])
def test_the_till_says_limit_reached_in_words(system, cashier, flash, language, words):
    member = buyer(system, 1)
    commit_sale(system, request(member))
    answer = logged_in(cashier, language).post("/cashier/quote/", till_basket(member))
    html = answer.content.decode()
    assert "龙井秒杀" in html and words in html
    assert "limit_reached" not in html


def test_the_till_says_sold_out(system, cashier, flash):
    for n in (1, 2):
        commit_sale(system, request(buyer(system, n)))
    answer = logged_in(cashier).post("/cashier/quote/", till_basket(buyer(system, 3)))
    html = answer.content.decode()
    assert "已抢光" in html and "sold_out" not in html


def test_the_console_shows_live_stock_and_limits_in_words(system, hq, flash):
    commit_sale(system, request(buyer(system, 1)))
    html = logged_in(hq).get("/promotions/").content.decode()
    assert "已售 1 / 2" in html
    assert "每人限 1 件" in html


def test_a_file_without_limits_clears_them_and_the_editor_keeps_them(system, hq, flash):
    from patron.promotions import editing

    row = editing.current_row(hq, "promotions", "flash-tea")
    editing.update_row(
        hq,
        "promotions",
        "flash-tea",
        {k: v for k, v in row.items() if k != "limits"} | {"name": "龙井"},
    )
    flash.refresh_from_db()
    assert (flash.name, flash.limits) == ("龙井", {"total": 2, "per_member": 1})
    unlimited = {key: value for key, value in FLASH.items() if key != "limits"}
    apply_program(system, program_with(unlimited))
    flash.refresh_from_db()
    assert flash.limits == {}


def test_a_partial_refund_gives_back_the_units_it_returns(system, stores):
    apply_program(system, program_with({**FLASH, "limits": {"total": 5, "per_member": 3}}))
    promotion = Promotion.objects.get(code="flash-tea")
    member = buyer(system, 1)
    fish = LineInput(sku="DISH-FISH", category="dishes", quantity=1, unit_price=5000)
    sale = commit_sale(
        system, replace(request(member, quantity=2), lines=[*request(member, 2).lines, fish])
    )
    assert stock(promotion) == 2
    refund_sale(system, sale, RefundAsk(lines=(("DISH-FISH", 1),)))
    assert stock(promotion) == 2  # the fish was not counted
    refund_sale(system, sale, RefundAsk(lines=(("TEA-LJ", 1),)))
    assert stock(promotion) == 1
    assert PromotionUse.objects.get(member=member, period="all").used == 1
    refund_sale(system, sale, RefundAsk(lines=(("TEA-LJ", 1),)))
    assert stock(promotion) == 0
    assert LimitTake.objects.get(sale_id=sale.pk).returned == 2
