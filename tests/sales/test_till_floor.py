"""The till on the shop floor (issue 14, item 4): the basket kept over a reload, "−" and "+" on
the selected line, one line per saving, today's sales net of refunds, refunds confirmed and
approved above the store's limit, staff by name, and where each role lands after logging in."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from patron.engine import pricing
from patron.sales import services
from patron.sales.models import Refund, Sale
from patron.sales.services import LineInput, RefundAsk, SaleRequest
from patron.sales.till import savings
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_api_key, update_store
from tests.conftest import staff_actor
from tests.sales.conftest import BASKET
from tests.sales.test_cashier_views import basket, figure, logged_in, page, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def till(cashier) -> Client:
    return logged_in(cashier)


def skus(html: str) -> list[str]:
    return re.findall(r'name="line_sku" value="([^"]+)"', html)


def quantities(html: str) -> list[str]:
    return re.findall(r'name="line_qty" value="([^"]*)"', html)


def key_of(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html)[1]


def selected(html: str) -> str:
    return re.search(r'id="selected-line" value="([^"]*)"', html)[1]


def savings_shown(html: str) -> dict[str, int]:
    found = re.findall(r'data-saving="([a-z_]+)" data-figure="[a-z-]+" data-fen="([0-9]+)"', html)
    kinds = [kind for kind, _fen in found]
    assert len(kinds) == len(set(kinds)), f"a kind of saving shown twice: {kinds}"
    return {kind: int(fen) for kind, fen in found}


# --- 2. the basket survives a reload ---------------------------------------------------------


class TestTheBasketSurvivesAReload:
    def test_a_reload_shows_the_same_basket_with_the_same_key(self, till, gold):
        body = basket(gold, code=["spring10"])
        till.post("/cashier/quote/", body)
        html = page(till.get("/cashier/"))
        assert skus(html) == [line["sku"] for line in BASKET]
        assert key_of(html) == body["key"]  # a confirm after F5 is still the same sale
        assert 'id="member-card"' in html and 'data-code="spring10"' in html

    def test_a_confirmed_sale_leaves_an_empty_till(self, till, gold):
        body = basket(gold)
        till.post("/cashier/quote/", body)
        sell(till, body)
        html = page(till.get("/cashier/"))
        assert skus(html) == [] and key_of(html) != body["key"]

    def test_clear_empties_the_kept_basket(self, till, program):
        till.post("/cashier/quote/", basket())
        till.post("/cashier/quote/", basket(op="clear"))
        assert skus(page(till.get("/cashier/"))) == []

    def test_one_basket_per_store_for_hq(self, hq, program):
        client = logged_in(hq)
        client.get("/cashier/?store=S1")
        client.post("/cashier/quote/", basket(store="S1"))
        client.get("/cashier/?store=S2")
        assert skus(page(client.get("/cashier/"))) == []
        client.post("/cashier/quote/", basket(lines=BASKET[:1], store="S2"))
        assert skus(page(client.get("/cashier/?store=S1"))) == [line["sku"] for line in BASKET]
        assert skus(page(client.get("/cashier/?store=S2"))) == ["ROOM-STD"]

    def test_another_cashier_does_not_see_it(self, till, system, stores, program):
        till.post("/cashier/quote/", basket())
        other = logged_in(staff_actor(system, "cashier2", Role.CASHIER, stores["S1"]))
        assert skus(page(other.get("/cashier/"))) == []


# --- 3. "−" and "+" on the selected line -----------------------------------------------------


class TestTheSelectedLine:
    def test_a_scanned_line_is_selected(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="scan", scan="DISH-FISH")))
        assert selected(html) == "1" and quantities(html) == ["1", "3", "1"]
        assert re.search(r'id="line-1"[^>]*class="till-line is-selected', html)
        assert not re.search(r'id="line-0"[^>]*class="till-line is-selected', html)

    def test_plus_and_minus_change_only_that_line(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="more:2", selected="2")))
        assert quantities(html) == ["1", "2", "2"] and selected(html) == "2"
        html = page(till.post("/cashier/quote/", basket(op="less:1", selected="1")))
        assert quantities(html) == ["1", "1", "1"] and selected(html) == "1"

    def test_minus_on_one_removes_the_line_with_undo(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="less:0", selected="0")))
        assert skus(html) == ["DISH-FISH", "TEA-LJ"]
        assert 'id="undo-button"' in html
        removed = re.search(r'name="removed" value="([^"]+)"', html)[1]
        body = basket(lines=BASKET[1:], op="undo", removed=removed.replace("&quot;", '"'))
        html = page(till.post("/cashier/quote/", body))
        assert skus(html) == ["ROOM-STD", "DISH-FISH", "TEA-LJ"] and selected(html) == "0"
        assert quantities(html) == ["1", "2", "1"]  # never below 1: back as it was

    def test_undo_is_offered_for_the_last_key_only(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="remove:2")))
        removed = re.search(r'name="removed" value="([^"]+)"', html)[1].replace("&quot;", '"')
        html = page(
            till.post("/cashier/quote/", basket(lines=BASKET[:2], op="more:0", removed=removed))
        )
        assert 'id="undo-button"' not in html and 'name="removed" value=""' in html

    def test_the_scan_box_never_gets_plus_or_minus_as_a_sku(self, till, program):
        # The page's keys send "more"/"less"; a "+" typed in the scan box is not an item.
        html = page(till.post("/cashier/quote/", basket(op="scan", scan="+")))
        assert "+" not in skus(html)

    def test_a_wrong_index_changes_nothing(self, till, program):
        html = page(till.post("/cashier/quote/", basket(op="less:9")))
        assert quantities(html) == ["1", "2", "1"]


# --- 4. one line per kind of saving ----------------------------------------------------------


def a_quote(**figures) -> pricing.Quote:
    base = dict(
        subtotal=44000,
        member_discount=7400,
        discount=7400 + 5000 + 3660,
        total=44000 - 16060 - 3000,
        lines=(),
        applied=(),
        rejected=(),
        points_redeemed=3000,
        points_value=3000,
        points_earned=0,
        stored_value_paid=0,
        cash_due=0,
        saved=16060 + 3000,
    )
    base.update(figures)
    return pricing.Quote(**base)


class TestSavings:
    def test_each_kind_once_and_they_add_up_to_subtotal_minus_total(self):
        quote = a_quote()
        rows = savings(quote)
        assert [row.kind for row in rows] == ["member_price", "promotions", "points"]
        assert [row.amount for row in rows] == [7400, 8660, 3000]
        # `discount` already holds the member prices: adding it again would show 7400 twice.
        assert sum(row.amount for row in rows) == quote.subtotal - quote.total == quote.saved

    def test_kinds_without_a_saving_are_not_shown(self):
        quote = a_quote(member_discount=0, discount=0, points_redeemed=0, points_value=0)
        assert savings(quote) == []

    def test_the_till_shows_them_once_and_they_add_up(self, till, cashier, gold):
        body = basket(gold, code=["spring10"], points="3000")
        html = page(till.post("/cashier/quote/", body))
        expected = services.price(
            cashier,
            SaleRequest(
                lines=[LineInput(**line) for line in BASKET],
                member=gold.pk,
                codes=["spring10"],
                points_to_redeem=3000,
            ),
        ).quote
        shown = savings_shown(html)
        assert shown == {
            "member_price": expected.member_discount,
            "promotions": expected.discount - expected.member_discount,
            "points": expected.points_value,
        }
        assert sum(shown.values()) == figure(html, "subtotal") - figure(html, "total")
        assert sum(shown.values()) == figure(html, "saved")
        assert 'data-figure="discount"' not in html  # the sum of the two above, never beside them


# --- 5. today's sales on the till ------------------------------------------------------------


class TestTodaysSales:
    def test_my_sales_today_net_of_my_refunds(self, till, system, stores, cashier, gold):
        first = sell(till, basket(gold))
        sell(till, basket(lines=BASKET[2:]))
        # Another cashier's sale and a sale of yesterday do not count.
        other = staff_actor(system, "cashier2", Role.CASHIER, stores["S1"])
        services.commit_sale(other, SaleRequest(lines=[LineInput(**BASKET[2])]))
        yesterday = timezone.now() - dt.timedelta(days=1)
        services.commit_sale(
            cashier, SaleRequest(lines=[LineInput(**BASKET[2])], occurred_at=yesterday)
        )
        refund = services.refund_sale(cashier, first, RefundAsk(lines=(("TEA-LJ", 1),)))
        html = page(till.get("/cashier/"))
        mine = Sale.objects.filter(
            user=cashier.user, occurred_at__gte=yesterday + dt.timedelta(hours=23)
        )
        assert figure(html, "day-sales") == 2 == mine.count()
        assert figure(html, "day-net") == sum(s.total for s in mine) - refund.amount
        assert figure(html, "day-refunded") == refund.amount

    def test_the_sales_list_shows_todays_refunds(self, till, cashier, gold):
        sale = sell(till, basket(gold))
        refund = services.refund_sale(cashier, sale, RefundAsk(lines=(("TEA-LJ", 1),)))
        html = page(till.get("/cashier/sales/"))
        assert figure(html, "refunded") == refund.amount and "1 refund today" in html


# --- 6. refunds: a confirmation always, a manager above the store's limit -------------------


@pytest.fixture
def manager(system, stores) -> Actor:
    staff = staff_actor(system, "s1.manager", Role.STORE_MANAGER, stores["S1"])
    staff.staff.user.first_name = "店长王"
    staff.staff.user.save()
    return staff


@pytest.fixture
def sale(till, gold) -> Sale:
    """ROOM-STD 320, 2 × DISH-FISH 50, TEA-LJ 20 for a gold member: 342 yuan."""
    return sell(till, basket(gold))


def refund_all(client: Client, sale: Sale, **extra) -> tuple[int, str]:
    body = {"all": "1", "key": extra.pop("key", str(uuid.uuid4())), **extra}
    response = client.post(f"/cashier/sales/{sale.pk}/refund/", body)
    return response.status_code, page(response)


class TestRefundConfirmation:
    def test_the_first_step_shows_the_amount_and_writes_nothing(self, till, sale):
        status, html = refund_all(till, sale)
        assert status == 200 and 'id="refund-confirm"' in html
        assert figure(html, "refund-preview") == sale.total
        assert 'id="refund-approval"' not in html  # 342 yuan: below the 500 yuan default
        assert Refund.objects.count() == 0

    def test_confirming_records_it(self, till, sale):
        status, _html = refund_all(till, sale, confirm="1")
        assert status == 302 and Refund.objects.get().amount == sale.total


class TestRefundApproval:
    @pytest.fixture(autouse=True)
    def limit(self, system, stores):
        update_store(system, stores["S1"], refund_approval_above=10000)  # 100 yuan

    def test_above_the_limit_the_manager_is_asked(self, till, sale, manager):
        status, html = refund_all(till, sale)
        assert status == 200 and 'id="refund-approval"' in html and "店长王" in html
        assert Refund.objects.count() == 0

    def test_without_the_manager_nothing_is_written(self, till, sale, manager):
        status, html = refund_all(till, sale, confirm="1")
        assert status == 200 and Refund.objects.count() == 0
        assert 'id="refund-approval"' in html

    def test_a_wrong_password_is_refused(self, till, sale, manager):
        body = {"confirm": "1", "approve": "1", "manager": manager.staff.pk, "password": "nope"}
        status, html = refund_all(till, sale, **body)
        assert status == 200 and "Wrong password for 店长王" in html
        assert Refund.objects.count() == 0
        sale.refresh_from_db()
        assert sale.status == Sale.Status.COMPLETED

    def test_a_locked_manager_cannot_approve_and_the_till_says_so(self, till, sale, manager):
        wrong = {"confirm": "1", "approve": "1", "manager": manager.staff.pk, "password": "nope"}
        for _attempt in range(5):  # django-axes: five failures lock the log-in
            status, html = refund_all(till, sale, **wrong)
        assert status == 200 and "cannot approve now" in html  # the refund page, not the log-in
        right = {**wrong, "password": "password123"}
        status, html = refund_all(till, sale, **right)
        assert status == 200 and "店长王 cannot approve now" in html
        assert Refund.objects.count() == 0

    def test_the_manager_approves_and_both_are_audited(self, till, sale, manager, cashier):
        body = {
            "confirm": "1",
            "approve": "1",
            "manager": manager.staff.pk,
            "password": "password123",
        }
        status, html = refund_all(till, sale, **body)
        assert status == 302, html
        refund = Refund.objects.get()
        assert refund.user == cashier.user
        entry = AuditEntry.objects.get(object_type="refund", object_id=str(refund.pk))
        assert entry.user == cashier.user
        assert entry.changes["approved_by"] == "店长王"
        assert entry.changes["approved_by_staff"] == manager.staff.pk
        assert entry.changes["refunded_by"] == "cashier1"

    def test_a_manager_of_another_store_cannot_approve(self, system, stores, sale, cashier):
        other = staff_actor(system, "s2.manager", Role.STORE_MANAGER, stores["S2"])
        with pytest.raises(services.DomainError) as refused:
            services.refund_sale(cashier, sale, RefundAsk(all=True), approver=other.staff)
        assert refused.value.code == "refund_approver_not_allowed"
        assert Refund.objects.count() == 0

    def test_the_service_refuses_without_approval(self, sale, cashier):
        with pytest.raises(services.DomainError) as refused:
            services.refund_sale(cashier, sale, RefundAsk(all=True))
        assert refused.value.code == "refund_needs_approval" and refused.value.status == 403
        assert Refund.objects.count() == 0

    def test_below_the_limit_no_manager(self, till, sale):
        dish = sale.lines.get(sku="TEA-LJ")  # 20 yuan: below the 100 yuan limit
        response = till.post(
            f"/cashier/sales/{sale.pk}/refund/",
            {f"qty_{dish.position}": "1", "key": str(uuid.uuid4()), "confirm": "1"},
        )
        assert response.status_code == 302

    def test_a_store_manager_refunds_without_a_second_person(self, manager, sale):
        client = logged_in(manager)
        status, _html = refund_all(client, sale, confirm="1")
        assert status == 302 and Refund.objects.count() == 1

    def test_the_api_is_unchanged(self, api, sale):
        response = api.post(
            f"/api/v1/sales/{sale.pk}/refunds",
            {"all": True},
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code in (200, 201), response.content
        assert Refund.objects.count() == 1


class TestTheRefundLimitSetting:
    def test_hq_sets_it_on_the_store_page(self, hq, stores):
        client = logged_in(hq)
        store = stores["S1"]
        html = page(client.get(f"/stores/{store.pk}/edit/"))
        assert 'value="500.00"' in html  # the default, in yuan
        body = {"name": store.name, "refund_approval_above": "200"}
        assert client.post(f"/stores/{store.pk}/edit/", body).status_code == 302
        store.refresh_from_db()
        assert store.refund_approval_above == 20000

    def test_a_store_manager_sets_their_own_stores_only(self, manager, stores):
        client = logged_in(manager)
        own, other = stores["S1"], stores["S2"]
        html = page(client.get(f"/stores/{own.pk}/edit/"))
        assert 'name="refund_approval_above"' in html and 'name="name"' not in html
        body = {"refund_approval_above": "80", "name": "renamed"}
        assert client.post(f"/stores/{own.pk}/edit/", body).status_code == 302
        own.refresh_from_db()
        assert own.refund_approval_above == 8000 and own.name != "renamed"  # only the limit
        assert client.get(f"/stores/{other.pk}/edit/").status_code == 404

    def test_a_cashier_may_not(self, till, stores):
        assert till.get(f"/stores/{stores['S1'].pk}/edit/").status_code == 403

    def test_empty_means_never_and_bad_amounts_are_refused(self, hq, stores):
        client = logged_in(hq)
        store = stores["S1"]
        body = {"name": store.name, "refund_approval_above": "-5"}
        assert client.post(f"/stores/{store.pk}/edit/", body).status_code == 200
        body["refund_approval_above"] = ""
        assert client.post(f"/stores/{store.pk}/edit/", body).status_code == 302
        store.refresh_from_db()
        assert store.refund_approval_above is None


# --- 7. staff by name ------------------------------------------------------------------------


class TestStaffByName:
    def test_the_list_and_receipt_name_the_cashier(self, till, cashier, sale):
        cashier.staff.user.first_name = "李收银"
        cashier.staff.user.save()
        assert "李收银" in page(till.get("/cashier/sales/"))
        assert "李收银" in page(till.get(f"/cashier/sales/{sale.pk}/"))

    def test_an_api_sale_names_the_api_key(self, system, stores, program, cashier):
        key = create_api_key(system, "收银系统")[1]
        api = Client(headers={"Authorization": f"Bearer {key}"})
        response = api.post(
            "/api/v1/sales",
            {"store": "S1", "lines": [BASKET[2]]},
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.content
        html = page(logged_in(cashier, "zh-hans").get("/cashier/sales/"))
        assert "接口：收银系统" in html
        assert re.search(r"data-cashier>\s*(api|cli)\s*<", html) is None

    def test_a_refund_names_who_made_it(self, till, sale):
        refund_all(till, sale, confirm="1")
        html = page(till.get(f"/cashier/sales/{sale.pk}/"))
        assert re.search(r"data-refund-by>cashier1<", html)


# --- 8. where each role lands ----------------------------------------------------------------


class TestLanding:
    @pytest.mark.parametrize(
        ("username", "role", "landing"),
        [
            ("c1", Role.CASHIER, "/cashier/"),
            ("m1", Role.STORE_MANAGER, "/"),
            ("h1", Role.HQ_ADMIN, "/"),
        ],
    )
    def test_after_logging_in(self, system, stores, username, role, landing):
        store = stores["S1"] if role != Role.HQ_ADMIN else None
        staff_actor(system, username, role, store)
        client = Client()
        response = client.post("/login/", {"username": username, "password": "password123"})
        assert response.status_code == 302 and response["Location"] == landing

    def test_a_link_asked_for_still_wins(self, cashier):
        client = Client()
        body = {"username": "cashier1", "password": "password123"}
        response = client.post("/login/?next=/cashier/sales/", body)
        assert response["Location"] == "/cashier/sales/"

    def test_the_home_page_as_next_is_the_cashiers_till(self, cashier):
        client = Client()
        body = {"username": "cashier1", "password": "password123"}
        response = client.post("/login/?next=/", body)
        assert response["Location"] == "/cashier/"


# --- 1. the layout leaves the catalogue its column -------------------------------------------


class TestTheCatalogueSlot:
    def test_an_empty_slot_without_the_catalogue_panel(self, till, program):
        html = page(till.get("/cashier/"))
        assert re.search(r'<aside class="till-catalogue" id="catalogue-slot"[^>]*></aside>', html)

    def test_the_catalogue_panel_goes_in_its_slot(self, till, program, settings, tmp_path):
        panel = tmp_path / "sales" / "_catalogue_panel.html"
        panel.parent.mkdir()
        panel.write_text('<section id="catalogue-panel">{{ store.name }}</section>')
        settings.TEMPLATES = [
            {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0].get("DIRS", [])]}
        ]
        html = page(till.get("/cashier/"))
        assert re.search(r'id="catalogue-slot"[^>]*><section id="catalogue-panel">西湖店<', html)
