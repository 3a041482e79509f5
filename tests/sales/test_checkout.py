"""Committing sales (F-20 … F-24), by hand-worked numbers, through the API of API.md §3."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patron.ledger import selectors as ledger_selectors
from patron.ledger.models import PointsLot, Transaction
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.promotions.models import Coupon
from patron.promotions.services import issue_coupon
from patron.sales.models import MemberPin, MemberStats, Sale, SaleLine
from patron.sales.services import set_pin
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def balances(member) -> tuple[int, int]:
    figures = ledger_selectors.member_balances(member)
    return figures["points"]["available"], figures["stored_value"]["total"]


def sale_body(member, **extra):
    return {"member": member.pk if member else None, "store": "S1", "lines": BASKET, **extra}


class TestTheFullBasket:
    """A gold member: tier prices, a code, a threshold promotion, points and stored value.

    subtotal 32000 + 2*5000 + 2000 = 44000
    gold prices: room 32000*80% = 25600, dish 5000*90% = 4500 (x2 = 9000), tea 2000
      -> 36600 left, member_discount 7400
    SPRING10 (priority 20): 10% of 36600 = 3660 -> lines 2560 / 900 / 200; 32940 left
    man300 (priority 30): 32940 >= 30000, 5000 off spread 23040:8100:1800
      -> 3497.27 / 1229.51 / 273.22, the spare fen to the largest remainder -> 3497/1230/273
      -> 19543 / 6870 / 1527 = 27940 left
    points: 3000 asked, cap 50% of 27940 = 13970 -> 30 units of 100 = 3000 points = 3000 fen
      spread 2098.40 / 737.65 / 163.96 -> 2098 / 738 / 164 -> line totals 17445 / 6132 / 1363
    total 44000 - 16060 - 3000 = 24940; stored value 10000 -> cash due 14940
    earned: 24940 * 1.5 = 37410 -> 374 points (1 per 100 fen); saved 44000 - 24940 = 19060
    """

    def test_quote_and_commit_agree_with_the_arithmetic(self, api, gold):
        body = sale_body(gold, codes=["spring10"], points_to_redeem=3000, stored_value=10000)
        quoted = post(api, "/api/v1/sales/quote", body)
        assert quoted.status_code == 200, quoted.content
        assert Sale.objects.count() == 0
        committed = post(api, "/api/v1/sales", body)
        assert committed.status_code == 201, committed.content
        result = committed.json()
        for got in (quoted.json(), result):
            assert (got["subtotal"], got["member_discount"], got["discount"]) == (
                44000,
                7400,
                16060,
            )
            assert (got["total"], got["stored_value_paid"], got["cash_due"]) == (
                24940,
                10000,
                14940,
            )
            assert (got["points_redeemed"], got["points_earned"], got["saved"]) == (
                3000,
                374,
                19060,
            )
            assert [line["total"] for line in got["lines"]] == [17445, 6132, 1363]
            assert [line["points_offset"] for line in got["lines"]] == [2098, 738, 164]
            assert [(a["code"], a["amount"]) for a in got["applied"]] == [
                ("SPRING10", 3660),
                ("man300", 5000),
            ]
        assert result["id"] and result["status"] == "completed"
        assert balances(gold) == (5000 - 3000 + 374, 0)
        assert reconcile() == []

    def test_the_sale_records_lines_and_member_figures(self, api, gold):
        body = sale_body(gold, codes=["SPRING10"], points_to_redeem=3000, stored_value=10000)
        sale_id = post(api, "/api/v1/sales", body).json()["id"]
        lines = SaleLine.objects.filter(sale_id=sale_id).order_by("position")
        assert [(line.sku, line.category, line.quantity) for line in lines] == [
            ("ROOM-STD", "rooms", 1),
            ("DISH-FISH", "dishes", 2),
            ("TEA-LJ", "drinks", 1),
        ]
        assert lines[1].brand == "西湖" and lines[2].size == "大"
        assert all(line.store.code == "S1" for line in lines)
        stats = MemberStats.objects.get(member=gold)
        assert (stats.total_spend, stats.visits, stats.average_ticket) == (24940, 1, 24940)
        assert stats.first_visit_at == stats.last_visit_at

    def test_the_server_reprices_whatever_the_client_claims(self, api, gold):
        body = sale_body(gold, discount=44000, total=1, points_earned=999999)
        result = post(api, "/api/v1/sales", body).json()
        # 36600 after gold prices, man300: 31600; 31600 * 1.5 / 100 = 474 points
        assert (result["total"], result["points_earned"]) == (31600, 474)


class TestIdempotency:
    def test_a_retried_sale_applies_once_and_answers_the_same(self, api, gold):
        body = sale_body(gold, points_to_redeem=1000)
        first = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-1-0001"})
        second = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-1-0001"})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert Sale.objects.count() == 1
        assert Transaction.objects.filter(kind="spend").count() == 1

    def test_the_service_itself_is_idempotent_per_key(self, system, gold):
        from patron.sales.services import LineInput, SaleRequest, commit_sale

        request = SaleRequest(
            lines=[LineInput(**line) for line in BASKET], member=gold.pk, store="S1"
        )
        first = commit_sale(system, request, key="k1")
        again = commit_sale(system, request, key="k1")
        assert first.pk == again.pk and again.replayed
        assert MemberStats.objects.get(member=gold).visits == 1


class TestASaleFailingAfterItsFirstWrites:
    """Under an Idempotency-Key the sale takes no savepoint (core/idempotency.atomic_write):
    a failure after the sale row is written rolls the request's whole transaction back, and
    the middleware stores the error answer in a new transaction, so a retry replays it."""

    @pytest.fixture
    def coupon_lost_to_another_till(self, monkeypatch):
        # consume_coupon reports the coupon as used by someone else after the sale's rows,
        # its lines and discounts are written: the race _consume_coupons guards against.
        monkeypatch.setattr("patron.sales.services.coupons.consume_coupon", lambda *a, **k: False)

    def body(self, system, gold):
        coupon = issue_coupon(system, gold, "cash20")
        return sale_body(gold, codes=[coupon.code], points_to_redeem=1000)

    def test_nothing_is_written_and_the_answer_is_stored_for_a_retry(
        self, api, system, gold, monkeypatch, coupon_lost_to_another_till
    ):
        from patron.core.models import IdempotencyRecord

        body = self.body(system, gold)
        before, transactions = balances(gold), Transaction.objects.count()
        failed = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-9-1"})
        assert failed.status_code == 409, failed.content
        assert failed.json()["code"] == "coupon_not_applicable"
        assert (Sale.objects.count(), SaleLine.objects.count()) == (0, 0)
        assert Transaction.objects.count() == transactions
        assert not MemberStats.objects.filter(member=gold).exists()
        assert balances(gold) == before
        record = IdempotencyRecord.objects.get(key="till-9-1")
        assert (record.status_code, bytes(record.response_body)) == (409, failed.content)

        monkeypatch.undo()  # the coupon is usable again: the retry must still get the 409
        again = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-9-1"})
        assert (again.status_code, again.content) == (409, failed.content)
        assert again["Idempotent-Replayed"] == "true"
        assert Sale.objects.count() == 0
        other = post(api, "/api/v1/sales", sale_body(gold), **{"Idempotency-Key": "till-9-1"})
        assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
        assert reconcile(gold.merchant) == []

    def test_without_a_key_the_same_failure_writes_nothing_either(
        self, api, system, gold, coupon_lost_to_another_till
    ):
        body, transactions = self.body(system, gold), Transaction.objects.count()
        failed = post(api, "/api/v1/sales", body)
        assert failed.status_code == 409 and failed.json()["code"] == "coupon_not_applicable"
        assert (Sale.objects.count(), Transaction.objects.count()) == (0, transactions)


class TestWalkInsAndIdentification:
    def test_a_walk_in_pays_list_price_and_earns_nothing(self, api, program):
        result = post(api, "/api/v1/sales", sale_body(None)).json()
        # 44000, man300 takes 5000 -> 39000
        assert (result["member"], result["total"], result["points_earned"]) == (None, 39000, 0)

    def test_members_are_found_by_mobile_card_and_qr_token(self, api, gold):
        for code in ("13800138000", gold.card_no):
            found = api.get("/api/v1/identify", {"code": code})
            assert found.status_code == 200 and found.json()["id"] == gold.pk
            assert found.json()["tier"] == "gold" and found.json()["points"] == 5000
        token = post(api, f"/api/v1/members/{gold.pk}/qr-token", {}).json()["token"]
        assert api.get("/api/v1/identify", {"code": token}).json()["id"] == gold.pk
        result = post(api, "/api/v1/sales", sale_body(None) | {"member": token}).json()
        assert result["member"] == gold.pk

    def test_an_old_qr_code_does_not_work(self, api, gold, monkeypatch):
        import time

        token = post(api, f"/api/v1/members/{gold.pk}/qr-token", {}).json()["token"]
        later = time.time() + 61
        monkeypatch.setattr("django.core.signing.time.time", lambda: later)
        response = api.get("/api/v1/identify", {"code": token})
        assert response.status_code == 422 and response.json()["code"] == "qr_expired"
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        response = api.get("/api/v1/identify", {"code": forged})
        assert response.json()["code"] in ("qr_invalid", "qr_expired")

    def test_another_merchants_member_is_not_found(self, other_api, gold):
        response = post(other_api, "/api/v1/sales", sale_body(gold) | {"store": "S1"})
        assert response.status_code in (404, 422)
        assert Sale.objects.count() == 0


class TestBackdating:
    def test_a_sale_uploaded_later_keeps_its_time_and_lot_dates(self, api, gold):
        then = timezone.now() - dt.timedelta(days=10)
        result = post(api, "/api/v1/sales", sale_body(gold, occurred_at=then.isoformat()))
        assert result.status_code == 201, result.content
        sale = Sale.objects.get()
        assert sale.occurred_at == then.replace(microsecond=then.microsecond)
        lot = PointsLot.objects.get(earned_by=sale.points_earn)
        assert lot.earned_at == sale.occurred_at

    @pytest.mark.parametrize("days", [31, -1])
    def test_too_old_or_future_sales_are_refused(self, api, gold, days):
        when = timezone.now() - dt.timedelta(days=days)
        response = post(api, "/api/v1/sales", sale_body(gold, occurred_at=when.isoformat()))
        assert response.status_code == 422
        assert response.json()["code"] == "occurred_at_out_of_window"


class TestMemberDay:
    def test_a_weekday_promotion_applies_only_on_its_day(self, system, api, gold):
        from patron.program.services import apply_program
        from tests.sales.conftest import PROGRAM

        tuesday = {
            "code": "tuesday",
            "name": "会员日",
            "kind": "automatic",
            "members_only": True,
            "condition": {"weekdays": [2]},
            "benefit": {"type": "percent", "value": 10},
            "priority": 10,
        }
        apply_program(system, {"promotions": [*PROGRAM["promotions"], tuesday]})
        zone = dt.timezone(dt.timedelta(hours=8))
        today = timezone.now().astimezone(zone)
        for back in range(1, 8):
            day = today - dt.timedelta(days=back)
            body = sale_body(gold, occurred_at=day.isoformat())
            codes = [a["code"] for a in post(api, "/api/v1/sales/quote", body).json()["applied"]]
            assert ("tuesday" in codes) == (day.isoweekday() == 2), day


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"category": "spaceships"}, "lines[0].category"),
            ({"quantity": 0}, "lines[0].quantity"),
            ({"quantity": -2}, "lines[0].quantity"),
            ({"unit_price": 0}, "lines[0].unit_price"),
            ({"unit_price": -100}, "lines[0].unit_price"),
        ],
    )
    def test_bad_lines_are_422_with_the_field(self, api, gold, change, field):
        body = sale_body(gold, lines=[BASKET[0] | change])
        response = post(api, "/api/v1/sales", body)
        assert response.status_code == 422, response.content
        assert any(e["field"] == field for e in response.json()["errors"])
        assert Sale.objects.count() == 0

    def test_unknown_code_is_rejected_in_a_quote_and_refused_in_a_sale(self, api, gold):
        body = sale_body(gold, codes=["NOPE"])
        quoted = post(api, "/api/v1/sales/quote", body).json()
        assert quoted["rejected"] == [{"code": "NOPE", "reason": "unknown_code"}]
        response = post(api, "/api/v1/sales", body)
        assert response.status_code == 422 and response.json()["code"] == "coupon_not_applicable"
        assert Sale.objects.count() == 0

    def test_more_points_than_held_is_insufficient_points(self, api, gold):
        before = balances(gold)
        response = post(api, "/api/v1/sales", sale_body(gold, points_to_redeem=5001))
        assert response.status_code == 422 and response.json()["code"] == "insufficient_points"
        assert balances(gold) == before and Sale.objects.count() == 0

    def test_more_points_than_the_rules_allow_redeems_the_maximum(self, api, gold):
        # 36600 after tier prices, man300 -> 31600; 50% = 15800 -> 158 units = 15800 points,
        # but the member holds 5000: asking 5000 redeems 5000
        result = post(api, "/api/v1/sales", sale_body(gold, points_to_redeem=5000)).json()
        assert result["points_redeemed"] == 5000

    def test_points_asked_are_lowered_to_the_cap_before_the_balance_check(self, api, gold):
        # API.md §3: one tea (2000 fen) allows 50 % = 1000 fen = 1000 points; asking 8000 with
        # 5000 held is lowered to 1000 first, so it is not "more than held".
        body = {**sale_body(gold, points_to_redeem=8000), "lines": [BASKET[-1]]}
        response = post(api, "/api/v1/sales", body)
        assert response.status_code == 201, response.content
        assert response.json()["points_redeemed"] == 1000
        assert balances(gold)[0] == 4000 + response.json()["points_earned"]

    def test_more_stored_value_than_held_is_insufficient_balance(self, api, gold):
        response = post(api, "/api/v1/sales", sale_body(gold, stored_value=10001, pin="123456"))
        assert response.status_code == 422 and response.json()["code"] == "insufficient_balance"
        assert Sale.objects.count() == 0


class TestPin:
    def test_above_the_threshold_the_pin_is_required_and_checked(self, api, system, gold):
        from patron.ledger import services as ledger

        ledger.top_up(system, gold, 20000, key="more")
        set_pin(system, gold, "135790")
        body = sale_body(gold, stored_value=15000)
        response = post(api, "/api/v1/sales", body)
        assert response.status_code == 422 and response.json()["code"] == "pin_required"
        wrong = post(api, "/api/v1/sales", body | {"pin": "000000"})
        assert wrong.status_code == 422 and wrong.json()["code"] == "pin_invalid"
        assert MemberPin.objects.get(member=gold).failed_attempts == 1
        assert Sale.objects.count() == 0
        right = post(api, "/api/v1/sales", body | {"pin": "135790"})
        assert right.status_code == 201, right.content
        assert MemberPin.objects.get(member=gold).failed_attempts == 0

    def test_five_wrong_pins_lock_even_the_right_one(self, api, system, gold):
        from patron.ledger import services as ledger

        ledger.top_up(system, gold, 20000, key="more")
        set_pin(system, gold, "135790")
        body = sale_body(gold, stored_value=15000)
        codes = [
            post(api, "/api/v1/sales", body | {"pin": "000000"}).json()["code"] for _ in range(5)
        ]
        assert codes == ["pin_invalid"] * 4 + ["pin_locked"]
        locked = post(api, "/api/v1/sales", body | {"pin": "135790"})
        assert locked.status_code == 423 and locked.json()["code"] == "pin_locked"
        assert Sale.objects.count() == 0

    def test_wrong_pins_count_under_idempotency_keys_too(self, api, system, gold):
        """Each attempt with its own key: the Idempotency-Key middleware's transaction must
        keep the counter (verify_pin writes it before the sale's writes start)."""
        from patron.ledger import services as ledger

        ledger.top_up(system, gold, 20000, key="more")
        set_pin(system, gold, "135790")
        body = sale_body(gold, stored_value=15000)
        codes = [
            post(
                api, "/api/v1/sales", body | {"pin": "000000"}, **{"Idempotency-Key": f"p{i}"}
            ).json()["code"]
            for i in range(5)
        ]
        assert codes == ["pin_invalid"] * 4 + ["pin_locked"]
        assert MemberPin.objects.get(member=gold).locked_until is not None
        again = post(api, "/api/v1/sales", body | {"pin": "000000"}, **{"Idempotency-Key": "p0"})
        assert again.json()["code"] == "pin_invalid" and again["Idempotent-Replayed"] == "true"
        assert Sale.objects.count() == 0

    def test_below_the_threshold_no_pin_is_needed(self, api, gold):
        response = post(api, "/api/v1/sales", sale_body(gold, stored_value=10000))
        assert response.status_code == 201, response.content


class TestCoupons:
    def test_a_room_night_coupon_makes_one_room_free_once(self, api, system, gold):
        coupon = issue_coupon(system, gold, "room_night")
        body = sale_body(gold, codes=[coupon.code])
        result = post(api, "/api/v1/sales", body).json()
        # gold prices 25600 + 9000 + 2000 = 36600; man300 (priority 30) comes before the coupon
        # (default priority 100): 5000 off spread 3497 / 1230 / 273, the room has 22103 left;
        # the coupon frees that one room unit: 22103 off -> 36600 - 5000 - 22103 = 9497
        assert result["lines"][0]["total"] == 0 and result["total"] == 9497
        assert [(a["kind"], a["amount"]) for a in result["applied"]] == [
            ("automatic", 5000),
            ("coupon", 22103),
        ]
        coupon.refresh_from_db()
        assert coupon.status == "used"
        again = post(api, "/api/v1/sales", body)
        assert again.status_code == 422 and again.json()["code"] == "coupon_not_applicable"
        assert "coupon_used" in again.json()["detail"]

    def test_another_members_coupon_is_refused(self, api, system, gold):
        other = register_member(system, {"mobile": "13900139000"})
        coupon = issue_coupon(system, other, "cash20")
        response = post(api, "/api/v1/sales", sale_body(gold, codes=[coupon.code]))
        assert response.status_code == 422
        assert "coupon_other_member" in response.json()["detail"]
        assert Coupon.objects.get(pk=coupon.pk).status == "available"

    def test_an_expired_coupon_is_refused(self, api, system, gold):
        coupon = issue_coupon(system, gold, "cash20")
        Coupon.objects.filter(pk=coupon.pk).update(
            valid_until=timezone.now() - dt.timedelta(days=1)
        )
        quoted = post(api, "/api/v1/sales/quote", sale_body(gold, codes=[coupon.code])).json()
        assert quoted["rejected"][0]["reason"] == "coupon_expired"


def test_reconcile_stays_clean_after_many_sales(api, gold):
    for index in range(5):
        body = sale_body(gold, points_to_redeem=100 * index, stored_value=1000 * index)
        assert post(api, "/api/v1/sales", body).status_code == 201
    assert reconcile() == []
    assert balances(gold)[1] == 10000 - sum(1000 * i for i in range(5))


def test_the_member_api_shows_tier_and_purchase_stats(api, gold):
    assert api.get(f"/api/v1/members/{gold.pk}").json()["stats"]["visits"] == 0
    post(api, "/api/v1/sales", sale_body(gold))
    member = api.get(f"/api/v1/members/{gold.pk}").json()
    # 36600 at gold prices, man300 -> 31600
    assert member["tier"] == "gold"
    assert (member["stats"]["visits"], member["stats"]["total_spend"]) == (1, 31600)
    assert member["stats"]["average_ticket"] == 31600
