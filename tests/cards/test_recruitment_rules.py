"""Recruitment rules (F-02): a purchase of at least X, purchases adding up to Y, a minimum age;
the qualifying sales become the new member's (docs/enrolment.md)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone, translation

from patron.cards.enrolment import age_on
from patron.core.errors import DomainError, ValidationFailed
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services
from patron.sales.models import MemberStats, Sale
from patron.sales.services import LineInput, RefundAsk, SaleRequest
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant, create_store
from tests.sales.conftest import PROGRAM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def with_rules(system, **rules) -> None:
    apply_program(system, {**PROGRAM, "recruitment": rules})


def sell(actor: Actor, amount: int, *, member=None, store: str = "S1") -> Sale:
    """A walk-in (or member) sale of one retail item at `amount` fen."""
    line = LineInput(sku="GIFT-BOX", category="retail", quantity=1, unit_price=amount)
    return services.commit_sale(actor, SaleRequest(lines=[line], member=member, store=store))


def join(actor: Actor, mobile: str = "13900139000", **data) -> Member:
    return register_member(actor, {"mobile": mobile, "store": "S1", **data})


def refused(actor, mobile: str = "13900139000", **data) -> DomainError:
    with pytest.raises(DomainError) as caught:
        join(actor, mobile, **data)
    return caught.value


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


class TestFreeJoin:
    def test_no_rules_anyone_joins(self, system, stores):
        apply_program(system, PROGRAM)
        assert join(system).pk

    def test_an_empty_section_is_free_join(self, system, stores):
        with_rules(system)
        assert join(system).pk


class TestMinPurchase:
    @pytest.fixture
    def rules(self, system, stores):
        with_rules(system, min_purchase=20000)

    def test_exactly_the_threshold_qualifies(self, system, rules):
        sale = sell(system, 20000)
        member = join(system, qualifying_sales=[sale.pk])
        sale.refresh_from_db()
        assert sale.member_id == member.pk

    def test_one_fen_below_is_refused_with_a_stable_code(self, system, rules):
        sale = sell(system, 19999)
        problem = refused(system, qualifying_sales=[sale.pk])
        assert (problem.code, problem.status) == ("recruitment_not_met", 422)
        assert "¥200.00" in problem.detail
        assert [e.field for e in problem.errors] == ["qualifying_sales"]
        assert not Member.objects.filter(mobile="13900139000").exists()
        sale.refresh_from_db()
        assert sale.member_id is None

    def test_no_sale_at_all_is_refused(self, system, rules):
        assert refused(system).code == "recruitment_not_met"

    def test_two_small_sales_do_not_make_one_purchase(self, system, rules):
        sales = [sell(system, 15000), sell(system, 15000)]
        problem = refused(system, qualifying_sales=[s.pk for s in sales])
        assert problem.code == "recruitment_not_met"


class TestMinSpendTotal:
    @pytest.fixture
    def rules(self, system, stores):
        with_rules(system, min_spend_total=30000)

    def test_sales_adding_up_to_exactly_the_threshold(self, system, rules):
        sales = [sell(system, 10000), sell(system, 20000)]
        member = join(system, qualifying_sales=[s.pk for s in sales])
        assert Sale.objects.filter(member=member).count() == 2

    def test_one_fen_below(self, system, rules):
        sales = [sell(system, 10000), sell(system, 19999)]
        assert refused(system, qualifying_sales=[s.pk for s in sales]).code == (
            "recruitment_not_met"
        )

    def test_either_rule_is_enough_when_both_are_given(self, system, stores):
        with_rules(system, min_purchase=50000, min_spend_total=30000)
        sales = [sell(system, 15000), sell(system, 15000)]
        assert join(system, qualifying_sales=[s.pk for s in sales]).pk
        big = sell(system, 50000)
        assert join(system, "13900139001", qualifying_sales=[big.pk]).pk

    def test_refunds_count_net(self, system, rules):
        sale = sell(system, 40000)
        services.refund_sale(system, sale, RefundAsk(all=True), key="r1")
        partly = sell(system, 20000)
        small = sell(system, 10000)
        problem = refused(system, qualifying_sales=[sale.pk])
        assert "was refunded" in problem.errors[0].message
        assert join(system, qualifying_sales=[partly.pk, small.pk]).pk


class TestWhichSalesQualify:
    @pytest.fixture
    def rules(self, system, stores):
        with_rules(system, min_purchase=10000)

    def test_another_merchants_sale_is_not_found(self, system, rules):
        other = create_merchant("other", "Other Co")
        other_system = Actor.system(other)
        create_store(other_system, "S1", "别家店")
        apply_program(other_system, PROGRAM)
        foreign = sell(other_system, 50000)
        problem = refused(system, qualifying_sales=[foreign.pk])
        assert problem.code == "validation_error"
        assert "not found" in problem.errors[0].message
        foreign.refresh_from_db()
        assert foreign.member_id is None

    def test_a_sale_that_already_has_a_member(self, system, rules):
        first = join(system, "13900139001", qualifying_sales=[sell(system, 10000).pk])
        theirs = sell(system, 30000, member=first.pk)
        problem = refused(system, qualifying_sales=[theirs.pk])
        assert "already belongs" in problem.errors[0].message

    def test_a_sale_cannot_qualify_two_members(self, system, rules):
        sale = sell(system, 10000)
        join(system, qualifying_sales=[sale.pk])
        problem = refused(system, "13900139001", qualifying_sales=[sale.pk])
        assert "already belongs" in problem.errors[0].message

    def test_a_wholly_refunded_sale(self, system, rules):
        sale = sell(system, 30000)
        services.refund_sale(system, sale, RefundAsk(all=True), key="r")
        assert "refunded" in refused(system, qualifying_sales=[sale.pk]).errors[0].message

    def test_not_a_sale_number(self, system, rules):
        problem = refused(system, qualifying_sales=["12a"])
        assert problem.errors[0].field == "qualifying_sales"


class TestTheSalesBecomeTheMembers:
    def test_figures_as_if_sold_to_the_member_and_no_points(self, system, stores):
        with_rules(system, min_spend_total=30000)
        older = sell(system, 20000)
        newer = sell(system, 25000)
        member = join(system, qualifying_sales=[older.pk, newer.pk])
        stats = MemberStats.objects.get(member=member)
        assert (stats.total_spend, stats.visits, stats.points_earned) == (45000, 2, 0)
        assert stats.first_visit_at == older.occurred_at
        assert stats.last_visit_at == newer.occurred_at
        assert reconcile(system.merchant) == []

    def test_a_partly_refunded_sale_counts_net_in_the_figures(self, system, stores):
        with_rules(system, min_purchase=10000)
        line = LineInput(sku="GIFT-BOX", category="retail", quantity=2, unit_price=10000)
        sale = services.commit_sale(system, SaleRequest(lines=[line], store="S1"))
        services.refund_sale(system, sale, RefundAsk(lines=(("GIFT-BOX", 1),)), key="half")
        member = join(system, qualifying_sales=[sale.pk])
        stats = MemberStats.objects.get(member=member)
        assert (stats.total_spend, stats.visits, stats.refunds) == (10000, 1, 1)
        # A later refund of the rest comes off the member's figures as for any member sale.
        sale.refresh_from_db()
        services.refund_sale(system, sale, RefundAsk(all=True), key="rest")
        stats.refresh_from_db()
        assert (stats.total_spend, stats.refunds) == (0, 2)
        assert reconcile(system.merchant) == []

    def test_the_new_member_earns_points_on_later_sales(self, system, stores):
        with_rules(system, min_purchase=10000)
        member = join(system, qualifying_sales=[sell(system, 10000).pk])
        later = sell(system, 10000, member=member.pk)
        assert later.points_earned == 100
        assert reconcile(system.merchant) == []


class TestMinAge:
    @pytest.fixture
    def rules(self, system, stores):
        with_rules(system, min_age=18)

    @staticmethod
    def years_ago(years: int, days: int = 0) -> dt.date:
        today = timezone.now().astimezone(SHANGHAI).date()
        return today.replace(year=today.year - years) + dt.timedelta(days=days)

    def test_the_birthday_is_required(self, system, rules):
        with pytest.raises(ValidationFailed) as caught:
            join(system)
        error = caught.value.errors[0]
        assert error.field == "birthday"
        assert error.message == "required: members must be at least 18"

    def test_eighteen_today_joins(self, system, rules):
        assert join(system, birthday=self.years_ago(18).isoformat()).pk

    def test_eighteen_tomorrow_does_not(self, system, rules):
        with pytest.raises(ValidationFailed) as caught:
            join(system, birthday=self.years_ago(18, days=1).isoformat())
        assert caught.value.errors[0].field == "birthday"

    def test_the_day_is_the_merchants(self, system, rules, monkeypatch):
        # 2027-03-05 23:30 in Shanghai is still 2027-03-05 15:30 UTC: born 2009-03-05 is 18.
        moment = dt.datetime(2027, 3, 5, 15, 30, tzinfo=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        assert join(system, birthday="2009-03-05").pk
        moment = dt.datetime(2027, 3, 4, 15, 30, tzinfo=dt.UTC)  # 23:30 on the 4th there
        with pytest.raises(ValidationFailed):
            join(system, "13900139001", birthday="2009-03-05")

    def test_leap_day_birthdays(self):
        assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
        assert age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18


class TestBulkAndApi:
    def test_the_import_is_exempt(self, system, stores, tmp_path):
        from patron.members.importing.service import import_members

        with_rules(system, min_purchase=10000, min_age=18)
        path = tmp_path / "people.csv"
        path.write_text("mobile,name\n13900139000,张三\n", encoding="utf-8")
        import_members(system, str(path), file_name="people.csv", dry_run=False)
        assert Member.objects.filter(mobile="13900139000").exists()

    def test_the_api_answers_recruitment_not_met(self, api, system, stores):
        with_rules(system, min_purchase=20000)
        sale = sell(system, 19999)
        answer = post(
            api, "/api/v1/members", {"mobile": "13900139000", "qualifying_sales": [sale.pk]}
        )
        assert answer.status_code == 422
        assert answer.json()["code"] == "recruitment_not_met"
        enough = sell(system, 20000)
        answer = post(
            api, "/api/v1/members", {"mobile": "13900139000", "qualifying_sales": [enough.pk]}
        )
        assert answer.status_code == 201, answer.content
        enough.refresh_from_db()
        assert enough.member_id == answer.json()["id"]
