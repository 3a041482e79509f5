"""The cashier screen (F-50) through Django's test client: the till, its quotes, the commit
with its one-time key, the receipt and refunds from it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client

from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members.services import register_member
from patron.promotions.services import issue_coupon
from patron.sales import services
from patron.sales.models import Refund, Sale
from patron.sales.services import LineInput, SaleRequest, member_qr_token, set_pin
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.sales.conftest import BASKET

pytestmark = pytest.mark.django_db

FRAGMENT = {"HX-Request": "true"}


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def till(cashier) -> Client:
    return logged_in(cashier)


def basket(member=None, lines=BASKET, **extra: Any) -> dict[str, Any]:
    """The till's form as the page posts it."""
    body: dict[str, Any] = {
        "key": str(uuid.uuid4()),
        "line_sku": [line["sku"] for line in lines],
        "line_category": [line["category"] for line in lines],
        "line_price": [str(line["unit_price"]) for line in lines],
        "line_qty": [str(line["quantity"]) for line in lines],
        "line_name": ["" for _ in lines],
    }
    if member is not None:
        body["member"] = str(member.pk)
    body.update(extra)
    return body


def figure(html: str, name: str) -> int:
    """A figure the page shows, read from its data attribute (fen or a count)."""
    match = re.search(rf'data-figure="{name}" data-(?:fen|value)="(-?[0-9]+)"', html)
    assert match, f"no figure {name!r} on the page"
    return int(match[1])


def page(response) -> str:
    return response.content.decode()


def points_and_value(member) -> tuple[int, int]:
    figures = ledger_selectors.member_balances(member)
    return figures["points"]["available"], figures["stored_value"]["total"]


def sell(till: Client, body: dict[str, Any]) -> Sale:
    response = till.post("/cashier/commit/", body)
    assert response.status_code == 302, page(response)
    return Sale.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


# --- pages and permissions -------------------------------------------------------------------


class TestPages:
    def test_the_till_renders_for_a_cashier(self, till, program):
        html = page(till.get("/cashier/"))
        assert 'id="scan-input"' in html and "autofocus" in html
        assert re.search(r'name="key" value="[0-9a-f-]{36}"', html)
        assert "<kbd>F8</kbd>" in html and "<kbd>F2</kbd>" in html
        assert 'name="store"' not in html  # a cashier sells in their own store only
        assert "Walk-in customer" in html

    def test_the_navigation_links_to_the_till(self, till, program):
        assert 'href="/cashier/"' in page(till.get("/"))

    def test_hq_picks_a_store_and_the_till_remembers_it(self, hq, program):
        client = logged_in(hq)
        assert 'id="store-choice"' in page(client.get("/cashier/"))
        html = page(client.get("/cashier/?store=S2"))
        assert '<input type="hidden" name="store" value="S2">' in html
        again = page(client.get("/cashier/"))
        assert '<input type="hidden" name="store" value="S2">' in again
        assert 'id="store-choice"' in page(client.get("/cashier/?pick=1"))

    def test_a_store_manager_may_sell(self, system, stores, program):
        manager = staff_actor(system, "m1", Role.STORE_MANAGER, stores["S1"])
        assert logged_in(manager).get("/cashier/").status_code == 200

    def test_marketers_may_not_use_the_till(self, marketer, program, gold):
        client = logged_in(marketer)
        assert client.get("/cashier/").status_code == 403
        assert client.post("/cashier/quote/", basket(gold)).status_code == 403
        assert client.post("/cashier/commit/", basket(gold)).status_code == 403
        assert client.get("/cashier/sales/").status_code == 403
        assert Sale.objects.count() == 0

    def test_logged_out_goes_to_the_login_page(self, program):
        response = Client().get("/cashier/")
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- identifying the member ------------------------------------------------------------------


class TestIdentify:
    @pytest.mark.parametrize("how", ["mobile", "card", "qr"])
    def test_the_member_is_found_by_mobile_card_or_qr_token(self, till, cashier, gold, how):
        code = {
            "mobile": lambda: "13800138000",
            "card": lambda: gold.card_no,
            "qr": lambda: member_qr_token(cashier, gold)[0],
        }[how]()
        html = page(till.post("/cashier/quote/", basket(op="identify", member_code=code)))
        assert f'<input type="hidden" name="member" value="{gold.pk}">' in html
        assert 'data-tier="gold"' in html
        assert "138****8000" in html and "13800138000" not in html  # a cashier sees it masked
        assert figure(html, "member-points") == 5000
        assert figure(html, "member-stored-value") == 10000
        # gold prices apply at once: 44000 - 7400 - man300 5000 = 31600
        assert figure(html, "total") == 31600

    def test_an_unknown_member_is_a_clear_message(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(op="identify", member_code="13999999999")))
        assert "No member with this mobile, card number or member code." in html
        assert 'name="member" value=' not in html
        assert 'value="13999999999"' in html  # kept for correcting
        assert figure(html, "total") == 39000  # still priced, as a walk-in

    def test_walk_in_drops_the_member_and_their_payments(self, till, gold):
        body = basket(gold, op="walk_in", points="1000", stored_value="10")
        html = page(till.post("/cashier/quote/", body))
        assert 'name="member"' not in html and "Walk-in customer" in html
        assert 'data-figure="points-value"' not in html
        assert figure(html, "total") == 39000

    def test_the_members_coupons_apply_with_one_click(self, till, system, gold):
        coupon = issue_coupon(system, gold, "cash20")
        html = page(till.post("/cashier/quote/", basket(gold)))
        assert f'value="apply:{coupon.code}"' in html
        html = page(till.post("/cashier/quote/", basket(gold, op=f"apply:{coupon.code}")))
        assert f'<input type="hidden" name="code" value="{coupon.code}">' in html
        # 36600 - man300 5000 - cash20 2000
        assert figure(html, "total") == 29600


# --- scanning and the basket -----------------------------------------------------------------


class TestScanning:
    def test_a_new_sku_asks_once_then_is_remembered(self, till, program):
        html = page(till.post("/cashier/quote/", basket(lines=[], op="scan", scan="6901234567890")))
        assert 'id="item-form"' in html and 'value="6901234567890"' in html
        body = basket(
            lines=[],
            op="add_item",
            item_sku="6901234567890",
            item_category="drinks",
            item_price="12.34",
            item_qty="2",
        )
        html = page(till.post("/cashier/quote/", body))
        assert 'id="item-form"' not in html
        assert '<input type="hidden" name="line_price" value="1234">' in html
        assert figure(html, "subtotal") == 2468
        # scanned again: one more on the same line, no form
        line = [{"sku": "6901234567890", "category": "drinks", "quantity": 2, "unit_price": 1234}]
        html = page(
            till.post("/cashier/quote/", basket(lines=line, op="scan", scan="6901234567890"))
        )
        assert 'id="item-form"' not in html and 'value="3"' in html
        # a fresh basket: the SKU is still known in this session; 3*SKU adds three
        html = page(
            till.post("/cashier/quote/", basket(lines=[], op="scan", scan="3*6901234567890"))
        )
        assert 'id="item-form"' not in html and figure(html, "subtotal") == 3 * 1234

    @pytest.mark.parametrize(
        ("price", "message"),
        [("12.345", "At most two decimals"), ("0", "above 0"), ("abc", "Enter an amount")],
    )
    def test_a_bad_price_is_refused_not_rounded(self, till, program, price, message):
        body = basket(
            lines=[], op="add_item", item_sku="X1", item_category="drinks", item_price=price
        )
        body["item_qty"] = "1"
        html = page(till.post("/cashier/quote/", body))
        assert 'id="item-form"' in html and message in html
        assert 'name="line_sku"' not in html

    def test_quantities_go_up_down_and_lines_go(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="more:1")))
        assert figure(html, "subtotal") == 44000 + 5000
        html = page(till.post("/cashier/quote/", basket(op="less:1")))
        assert figure(html, "subtotal") == 44000 - 5000
        html = page(till.post("/cashier/quote/", basket(op="remove:0")))
        assert 'value="ROOM-STD"' not in html and figure(html, "subtotal") == 12000

    def test_a_line_is_changed_in_place(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="edit:2")))
        assert 'id="item-form"' in html and 'value="20.00"' in html  # the tea, in yuan
        body = basket(
            op="add_item",
            item_sku="TEA-LJ",
            item_category="drinks",
            item_price="25",
            item_qty="2",
            item_index="2",
        )
        html = page(till.post("/cashier/quote/", body))
        assert 'id="item-form"' not in html
        assert re.findall(r'name="line_sku" value="([^"]+)"', html) == [
            "ROOM-STD",
            "DISH-FISH",
            "TEA-LJ",
        ]
        assert figure(html, "subtotal") == 32000 + 10000 + 5000

    def test_a_typed_quantity_that_is_not_a_number_is_shown_back(self, till, program):
        body = basket()
        body["line_qty"] = ["1", "two", "1"]
        html = page(till.post("/cashier/quote/", body))
        assert "The quantity must be a whole number" in html and 'value="two"' in html
        assert 'id="confirm-button"' in html and 'data-figure="total"' not in html

    def test_clear_starts_a_new_basket_with_a_new_key(self, till, gold):
        body = basket(gold, op="clear")
        html = page(till.post("/cashier/quote/", body))
        assert 'name="line_sku"' not in html and 'name="member"' not in html
        assert body["key"] not in html


# --- pricing ---------------------------------------------------------------------------------


class TestQuote:
    def test_the_quote_matches_the_service_and_writes_nothing(self, till, cashier, gold):
        body = basket(gold, code=["spring10"], points="3000", stored_value="100")
        html = page(till.post("/cashier/quote/", body))
        expected = services.price(
            cashier,
            SaleRequest(
                lines=[LineInput(**line) for line in BASKET],
                member=gold.pk,
                codes=["spring10"],
                points_to_redeem=3000,
                stored_value=10000,
            ),
        ).quote
        shown = {
            name: figure(html, name)
            for name in (
                "subtotal",
                "member-discount",
                "promotions-discount",
                "points-value",
                "total",
                "cash-due",
                "saved",
            )
        }
        assert shown == {
            "subtotal": expected.subtotal,
            "member-discount": expected.member_discount,
            "promotions-discount": expected.discount - expected.member_discount,
            "points-value": expected.points_value,
            "total": expected.total,
            "cash-due": expected.cash_due,
            "saved": expected.saved,
        }
        # the hand-worked figures of test_checkout.TestTheFullBasket
        assert (expected.total, expected.cash_due, expected.saved) == (24940, 14940, 19060)
        assert figure(html, "points-earned") == expected.points_earned == 374
        totals = re.findall(r'data-figure="line-total" data-fen="([0-9]+)"', html)
        assert [int(t) for t in totals] == [line.total for line in expected.lines]
        assert "SPRING10" in html or "spring10" in html
        assert Sale.objects.count() == 0 and Transaction.objects.filter(kind="spend").count() == 0

    def test_the_most_points_are_shown_and_used_on_request(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold)))
        # 31600 left, 50 % may be points: 15800, but the member holds 5000
        assert "At most 5,000 on this basket" in html
        html = page(till.post("/cashier/quote/", basket(gold, op="points_max")))
        assert 'id="points-input" name="points"' in html and 'value="5000"' in html
        assert figure(html, "total") == 31600 - 5000

    def test_pay_all_from_card_takes_what_the_card_holds(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold, op="pay_all")))
        assert figure(html, "stored-value-paid") == 10000
        assert figure(html, "cash-due") == 31600 - 10000
        assert 'value="100.00"' in html

    def test_rejected_codes_are_explained(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold, code=["NOPE"])))
        assert "No promotion or coupon has this code." in html
        assert "unknown_code" not in html

    def test_the_pin_is_asked_above_the_threshold(self, till, system, gold):
        ledger.top_up(system, gold, 20000, key="more")
        below = page(till.post("/cashier/quote/", basket(gold, stored_value="100")))
        assert 'id="pin-input"' not in below
        above = page(till.post("/cashier/quote/", basket(gold, stored_value="100.01")))
        assert 'id="pin-input"' in above

    def test_more_points_than_held_is_shown_at_once(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold, points="6000")))
        assert "The member has only 5,000 points." in html

    def test_a_bad_stored_value_amount_is_explained(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold, stored_value="1.234")))
        assert "At most two decimals" in html and 'value="1.234"' in html

    def test_the_script_gets_only_the_basket(self, till, gold):
        response = till.post("/cashier/quote/", basket(gold), headers=FRAGMENT)
        html = page(response)
        assert "<html" not in html and 'data-till-focus="' in html
        assert figure(html, "total") == 31600


# --- committing ------------------------------------------------------------------------------


class TestCommit:
    def test_one_key_is_one_sale_however_often_it_is_posted(self, till, gold):
        body = basket(gold, code=["SPRING10"], points="3000", stored_value="100")
        first = till.post("/cashier/commit/", body)
        second = till.post("/cashier/commit/", body)
        assert first.status_code == second.status_code == 302
        assert first["Location"] == second["Location"]
        sale = Sale.objects.get()
        assert (sale.total, sale.cash_due, sale.points_redeemed) == (24940, 14940, 3000)
        assert sale.user.username == "cashier1" and sale.channel == "console"
        assert points_and_value(gold) == (5000 - 3000 + 374, 0)
        assert "already recorded" in page(till.get(second["Location"]))

    def test_the_script_is_told_where_the_receipt_is(self, till, gold):
        response = till.post("/cashier/commit/", basket(gold), headers=FRAGMENT)
        assert response.status_code == 204
        assert response["HX-Redirect"] == f"/cashier/sales/{Sale.objects.get().pk}/"

    def test_a_walk_in_sale(self, till, program):
        sale = sell(till, basket())
        assert sale.member is None and sale.total == 39000 and sale.store.code == "S1"

    def test_not_enough_points_is_shown_and_nothing_is_written(self, till, gold):
        before = points_and_value(gold)
        response = till.post("/cashier/commit/", basket(gold, points="6000"))
        assert response.status_code == 200
        html = page(response)
        assert "The member has only 5,000 points." in html
        assert 'data-till-focus="points-input"' in html
        assert figure(html, "total") > 0  # the totals stay on the page
        assert Sale.objects.count() == 0 and points_and_value(gold) == before

    def test_a_code_that_cannot_be_used_refuses_the_sale(self, till, gold):
        response = till.post("/cashier/commit/", basket(gold, code=["NOPE"]))
        html = page(response)
        assert "No promotion or coupon has this code." in html
        assert "Remove the codes that cannot be used" in html
        assert Sale.objects.count() == 0

    def test_the_pin_is_checked_and_errors_are_inline(self, till, system, gold):
        ledger.top_up(system, gold, 20000, key="more")
        set_pin(system, gold, "135790")
        body = basket(gold, stored_value="150")
        missing = page(till.post("/cashier/commit/", body))
        assert "The member&#x27;s PIN is required." in missing or "PIN is required" in missing
        wrong = page(till.post("/cashier/commit/", body | {"pin": "000000"}))
        assert "Wrong PIN" in wrong and 'data-till-focus="pin-input"' in wrong
        assert Sale.objects.count() == 0
        sale = sell(till, body | {"pin": "135790"})
        assert sale.stored_value_paid == 15000

    def test_a_cashier_cannot_sell_in_another_store(self, till, gold):
        html = page(till.post("/cashier/commit/", basket(gold, store="S2")))
        assert "You can only sell in your own store." in html
        assert Sale.objects.count() == 0

    def test_hq_sells_in_the_store_it_picked(self, hq, gold):
        client = logged_in(hq)
        sale = sell(client, basket(gold, store="S2"))
        assert sale.store.code == "S2"

    def test_an_empty_basket_cannot_be_confirmed(self, till, program):
        html = page(till.post("/cashier/commit/", basket(lines=[])))
        assert "A sale needs at least one line." in html
        assert Sale.objects.count() == 0


# --- receipt, refunds, today's sales ---------------------------------------------------------


@pytest.fixture
def big_sale(till, gold) -> Sale:
    """test_checkout.TestTheFullBasket's sale, made at the till."""
    return sell(till, basket(gold, code=["SPRING10"], points="3000", stored_value="100"))


class TestReceipt:
    def test_the_receipt_shows_what_the_member_got(self, till, big_sale):
        html = page(till.get(f"/cashier/sales/{big_sale.pk}/"))
        assert "You saved" in html and figure(html, "saved") == 19060
        assert figure(html, "points-earned") == 374
        assert figure(html, "points-value") == 3000
        assert figure(html, "stored-value-paid") == 10000 and figure(html, "cash-due") == 14940
        assert figure(html, "points-after") == 5000 - 3000 + 374
        assert figure(html, "stored-value-after") == 0
        assert "138****8000" in html and "13800138000" not in html
        assert "SPRING10" in html and "春季九折" in html and "满300减50" in html
        assert "cashier1" in html and "西湖店" in html
        assert "@media print" not in html and "sales/till.css" in html

    def test_a_walk_in_receipt_has_no_member_figures(self, till, program):
        sale = sell(till, basket())
        html = page(till.get(f"/cashier/sales/{sale.pk}/"))
        assert "Walk-in" in html and 'data-figure="points-after"' not in html

    def test_another_stores_receipt_is_not_found(self, system, stores, big_sale):
        other = staff_actor(system, "c2", Role.CASHIER, stores["S2"])
        assert logged_in(other).get(f"/cashier/sales/{big_sale.pk}/").status_code == 404

    def test_refunding_one_dish_from_the_receipt(self, till, gold, big_sale):
        dish = big_sale.lines.get(sku="DISH-FISH")
        response = till.post(
            f"/cashier/sales/{big_sale.pk}/refund/",
            {f"qty_{dish.position}": "1", "key": str(uuid.uuid4()), "confirm": "1"},
        )
        assert response.status_code == 302, page(response)
        refund = Refund.objects.get()
        # test_refunds: 3066 back, 1229 to the card, 1837 cash, 369 points back, 46 taken back
        assert (refund.amount, refund.stored_value_returned, refund.cash_refunded) == (
            3066,
            1229,
            1837,
        )
        html = page(till.get(response["Location"].split("#")[0]))
        assert f'id="refund-{refund.pk}"' in html and figure(html, "refund-amount") == 3066
        assert "Refund recorded" in html and 'data-refunded="1"' in html
        assert 'data-status="partly_refunded"' in html

    def test_refunding_more_than_was_sold_is_an_error(self, till, big_sale):
        dish = big_sale.lines.get(sku="DISH-FISH")
        response = till.post(
            f"/cashier/sales/{big_sale.pk}/refund/",
            {f"qty_{dish.position}": "3", "key": str(uuid.uuid4())},
        )
        assert response.status_code == 200
        html = page(response)
        assert "Cannot refund 3 of DISH-FISH" in html and "More than was sold." in html
        assert Refund.objects.count() == 0

    def test_nothing_chosen_is_an_error(self, till, big_sale):
        response = till.post(f"/cashier/sales/{big_sale.pk}/refund/", {"key": str(uuid.uuid4())})
        assert "Enter a quantity to refund" in page(response)
        assert Refund.objects.count() == 0

    def test_refund_everything_once_per_key(self, till, gold, big_sale):
        body = {"all": "1", "key": str(uuid.uuid4()), "confirm": "1"}
        till.post(f"/cashier/sales/{big_sale.pk}/refund/", body)
        again = till.post(f"/cashier/sales/{big_sale.pk}/refund/", body)
        assert again.status_code == 302 and Refund.objects.count() == 1
        assert points_and_value(gold) == (5000, 10000)
        html = page(till.get(f"/cashier/sales/{big_sale.pk}/"))
        assert "Everything on this sale has been refunded." in html
        assert "nothing was refunded twice" in html

    def test_todays_sales_link_to_their_receipts(self, till, big_sale):
        html = page(till.get("/cashier/sales/"))
        assert f'href="/cashier/sales/{big_sale.pk}/"' in html
        assert figure_text(html, "count") == "1"

    def test_hq_sees_todays_sales_of_all_stores(self, hq, big_sale):
        html = page(logged_in(hq).get("/cashier/sales/?store=all"))
        assert f'href="/cashier/sales/{big_sale.pk}/"' in html


def figure_text(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match
    return match[1].strip()


def test_a_cashier_finds_members_of_every_store_of_the_chain(till, system, program):
    """A member's card works chain-wide (F-20); the till shows the mobile masked."""
    register_member(system, {"mobile": "13900139000", "store": "S2"})
    html = page(till.post("/cashier/quote/", basket(op="identify", member_code="13900139000")))
    assert "No member with this mobile, card number or member code." not in html
    assert "139****9000" in html
