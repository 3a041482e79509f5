"""The hand-worked month: top-ups at S1 and S2, spends at S2 and S3, a refund; closing a month
freezes it and a late upload lands in the next open month; store-owned activities."""

from __future__ import annotations

import pytest
from django.utils import timezone

from patron.core.errors import DomainError
from patron.network import settlement_selectors as selectors
from patron.network import settlement_services as services
from patron.network.models import SettlementLine, SettlementMonth
from patron.promotions.models import CouponTemplate, Promotion
from patron.promotions.services import issue_coupon
from patron.tenancy.audit_display import present_entries
from patron.tenancy.models import AuditEntry
from tests.network.settlement_support import (
    deposit,
    give_back,
    last_month_day,
    make_chain,
    member,
    spend,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def chain(system, stores):
    return make_chain(system, stores)


def this_month(merchant) -> str:
    return selectors.month_of(timezone.now(), selectors.merchant_zone(merchant.timezone))


def figures(actor, month):
    found = selectors.statement(actor, month).as_dict()
    return found["rows"], found["net"]


@pytest.fixture
def month_of_a_chain(system, hq, chain):
    """Ann tops up 1,000 yuan at S1 and 300 at S2; Bo 500 at S2.
    Ann pays 1,200 at S2: 1,000 of S1's cash (S1 owes S2 100000), 200 of S2's own.
    Bo pays 400 (two dishes of 200) at S3: all S2's cash (S2 owes S3 40000).
    Ann pays 50 at S3: S2's cash left over from her top-up (S2 owes S3 5000).
    Bo returns one dish: 200 back under S2's name (S2 owes S3 -20000).
    Pairs: S1 -> S2 100000; S2 -> S3 40000 + 5000 - 20000 = 25000.
    Nets: S1 -100000, S2 +100000 - 25000 = +75000, S3 +25000; they sum to 0."""
    ann, bo = member(system, "13800138001"), member(system, "13800138002")
    deposit(system, ann, 100000, chain["S1"])
    deposit(system, bo, 50000, chain["S2"])
    deposit(system, ann, 30000, chain["S2"])
    spend(system, ann, "S2", [120000])
    bo_sale = spend(system, bo, "S3", [20000, 20000])
    spend(system, ann, "S3", [5000])
    give_back(hq, bo_sale, "DISH-1")
    return ann, bo, bo_sale


def test_the_hand_worked_month_to_the_fen(hq, month_of_a_chain, merchant):
    rows, net = figures(hq, this_month(merchant))
    assert rows == [
        {"payer": "S1", "payee": "S2", "amount": 100000},
        {"payer": "S2", "payee": "S3", "amount": 25000},
    ]
    assert net == {"S1": -100000, "S2": 75000, "S3": 25000}
    assert sum(net.values()) == 0


def test_the_flows_behind_a_pair_name_the_sales_and_the_top_ups(hq, month_of_a_chain, merchant):
    _ann, bo, bo_sale = month_of_a_chain
    flows = selectors.pair_lines(hq, this_month(merchant), "S2", "S3")
    assert sum(f["amount"] for f in flows) == 25000
    bo_flows = [f for f in flows if f["member"] == bo.pk]
    assert [f["amount"] for f in bo_flows] == [40000, -20000]
    assert {f["sale"] for f in bo_flows} == {bo_sale.pk}
    assert all(f["topup_store"] == "S2" and f["member_mobile"] == "138****8002" for f in bo_flows)
    # Asked the other way round, the same flows with the sign turned.
    back = selectors.pair_lines(hq, this_month(merchant), "S3", "S2")
    assert sum(f["amount"] for f in back) == -25000


def test_a_store_manager_sees_only_the_pairs_of_their_store(system, month_of_a_chain, chain):
    from tests.conftest import staff_actor

    manager = staff_actor(system, "s1boss", "store_manager", chain["S1"])
    month = this_month(system.merchant)
    rows, net = figures(manager, month)
    assert rows == [{"payer": "S1", "payee": "S2", "amount": 100000}]
    assert net["S1"] == -100000
    assert selectors.pair_lines(manager, month, "S2", "S3") == []


def test_closing_a_month_freezes_it_and_a_late_upload_lands_in_the_next(
    system, hq, chain, merchant
):
    ann = member(system, "13800138003")
    day = last_month_day(merchant)
    last, now = (
        selectors.month_of(day, selectors.merchant_zone(merchant.timezone)),
        this_month(merchant),
    )
    deposit(system, ann, 50000, chain["S1"], at=day)
    spend(system, ann, "S2", [10000], at=day)
    closed = services.close_month(hq, last, key="k1").as_dict()
    assert closed["status"] == "closed" and closed["closed_by"] == "hq"
    assert closed["rows"] == [{"payer": "S1", "payee": "S2", "amount": 10000}]
    assert SettlementLine.objects.filter(closed_month__month=last).count() == 1
    entries = AuditEntry.objects.filter(object_type="settlementmonth")
    assert [shown.summary for shown in present_entries(entries, merchant)] == [
        f"关账了 {last} 的门店间结算"
    ]

    late = spend(system, ann, "S3", [7000], at=day.replace(day=12))  # uploaded after the close
    again = selectors.statement(hq, last).as_dict()
    assert again["rows"] == closed["rows"] and again["net"] == {"S1": -10000, "S2": 10000}
    current = selectors.statement(hq, now).as_dict()
    assert current["status"] == "open"
    assert current["rows"] == [{"payer": "S1", "payee": "S3", "amount": 7000}]
    assert [(x["sale"], x["occurred_month"], x["amount"]) for x in current["late"]] == [
        (late.pk, last, 7000)
    ]
    # Closing again answers the frozen statement and writes nothing.
    assert services.close_month(hq, last, key="k2").as_dict() == closed
    assert (
        SettlementMonth.objects.count() == 1
        and AuditEntry.objects.filter(object_type="settlementmonth").count() == 1
    )


def test_a_refund_after_the_close_is_counted_in_the_open_month(system, hq, chain, merchant):
    ann = member(system, "13800138004")
    day = last_month_day(merchant)
    last = selectors.month_of(day, selectors.merchant_zone(merchant.timezone))
    deposit(system, ann, 50000, chain["S1"], at=day)
    sale = spend(system, ann, "S2", [10000, 10000], at=day)
    services.close_month(hq, last)
    give_back(hq, sale, "DISH-0")
    assert figures(hq, last)[0] == [{"payer": "S1", "payee": "S2", "amount": 20000}]
    assert figures(hq, this_month(merchant))[0] == [{"payer": "S2", "payee": "S1", "amount": 10000}]


class TestBadCloses:
    def test_a_month_not_yet_ended_is_refused_and_nothing_written(self, hq, merchant, chain):
        with pytest.raises(DomainError) as refused:
            services.close_month(hq, this_month(merchant))
        assert (refused.value.code, refused.value.status) == ("month_not_ended", 422)
        assert not SettlementMonth.objects.exists()
        assert not AuditEntry.objects.filter(object_type="settlementmonth").exists()

    @pytest.mark.parametrize("month", ["2027-13", "2027-3", "March", "", "2027-03-01", "1999-12"])
    def test_a_malformed_month_is_a_validation_error(self, hq, chain, month):
        with pytest.raises(DomainError) as refused:
            services.close_month(hq, month)
        assert refused.value.code == "validation_error"
        assert refused.value.errors[0].field == "month"
        assert not SettlementMonth.objects.exists()

    def test_only_head_office_closes(self, system, chain):
        from tests.conftest import staff_actor

        manager = staff_actor(system, "s2boss", "store_manager", chain["S2"])
        with pytest.raises(DomainError) as refused:
            services.close_month(manager, "2020-01")
        assert refused.value.status == 403
        assert not SettlementMonth.objects.exists()


class TestStoreActivities:
    def test_a_coupon_run_by_s1_redeemed_at_s3_is_charged_to_s1(self, system, hq, chain, merchant):
        CouponTemplate.objects.filter(code="s1cash").update(owner_store=chain["S1"])
        cy = member(system, "13800138005")
        deposit(system, cy, 50000, chain["S3"])
        coupon = issue_coupon(system, cy, "s1cash")
        spend(system, cy, "S3", [5000], codes=[coupon.code], stored_value=4000)
        found = selectors.statement(hq, this_month(merchant)).as_dict()
        assert found["rows"] == [{"payer": "S1", "payee": "S3", "amount": 1000}]
        assert found["activities"] == [
            {"activity": "西湖店十元券 (s1cash)", "payer": "S1", "payee": "S3", "amount": 1000}
        ]

    def test_a_code_promotion_refunded_gives_its_discount_back(self, system, hq, chain, merchant):
        Promotion.objects.filter(code="s1treat").update(owner_store=chain["S1"])
        dee = member(system, "13800138006")
        deposit(system, dee, 50000, chain["S2"])
        sale = spend(system, dee, "S2", [5000, 5000], codes=["S1TREAT"], stored_value=9000)
        month = this_month(merchant)
        assert figures(hq, month)[0] == [{"payer": "S1", "payee": "S2", "amount": 1000}]
        give_back(hq, sale, "DISH-0")  # half the sale back: half the discount
        assert figures(hq, month)[0] == [{"payer": "S1", "payee": "S2", "amount": 500}]
        give_back(hq, sale)
        assert figures(hq, month) == ([], {})

    def test_a_store_redeeming_its_own_coupon_owes_nobody(self, system, hq, chain, merchant):
        CouponTemplate.objects.filter(code="s1cash").update(owner_store=chain["S1"])
        ed = member(system, "13800138007")
        deposit(system, ed, 50000, chain["S1"])
        coupon = issue_coupon(system, ed, "s1cash")
        spend(system, ed, "S1", [5000], codes=[coupon.code], stored_value=4000)
        assert figures(hq, this_month(merchant)) == ([], {})


def test_a_card_refund_paying_cash_out_at_another_store_is_owed_to_it(system, hq, chain):
    from patron.ledger import services as ledger

    fay = member(system, "13800138008")
    deposit(system, fay, 30000, chain["S1"])
    spend(system, fay, "S1", [10000])
    ledger.refund_card(system, fay, key="card-out", context=ledger.Context(store=chain["S3"]))
    rows, net = figures(hq, this_month(system.merchant))
    assert rows == [{"payer": "S1", "payee": "S3", "amount": 20000}]
    assert net == {"S1": -20000, "S3": 20000}
