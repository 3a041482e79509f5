"""Enrolling at the till: the receipt of an anonymous sale that meets the recruitment rule says
"This customer qualifies to join" and enrols them in one step, the sale becoming theirs."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.members.models import Member
from patron.program.services import apply_program
from patron.sales import services
from patron.sales.models import MemberStats, Sale
from patron.sales.services import LineInput, RefundAsk, SaleRequest
from patron.tenancy.actor import Actor
from tests.sales.conftest import PROGRAM

pytestmark = pytest.mark.django_db


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


def sell(actor: Actor, amount: int, member=None) -> Sale:
    line = LineInput(sku="GIFT-BOX", category="retail", quantity=1, unit_price=amount)
    return services.commit_sale(actor, SaleRequest(lines=[line], member=member, store="S1"))


def receipt(client: Client, sale: Sale) -> str:
    answer = client.get(f"/cashier/sales/{sale.pk}/")
    assert answer.status_code == 200
    return answer.content.decode()


def enrol(client: Client, sale: Sale, **data):
    return client.post(f"/units/enrol-sale/{sale.pk}/", data)


@pytest.fixture
def rules(system, stores):
    apply_program(system, {**PROGRAM, "recruitment": {"min_purchase": 20000}})


@pytest.fixture
def till(cashier) -> Client:
    return logged_in(cashier)


class TestTheOffer:
    def test_a_qualifying_sale_offers_to_enrol(self, till, cashier, rules):
        page = receipt(till, sell(cashier, 20000))
        assert "This customer qualifies to join" in page
        assert 'id="enrol-form"' in page

    def test_in_chinese(self, cashier, rules):
        page = receipt(logged_in(cashier, "zh-hans"), sell(cashier, 20000))
        assert "此顾客符合入会条件" in page

    def test_one_fen_below_offers_nothing(self, till, cashier, rules):
        assert 'id="enrol-offer"' not in receipt(till, sell(cashier, 19999))

    def test_a_members_sale_offers_nothing(self, till, cashier, rules):
        first = sell(cashier, 20000)
        enrol(till, first, mobile="13900139000")
        assert 'id="enrol-offer"' not in receipt(till, first)
        member = Member.objects.get(mobile="13900139000")
        assert 'id="enrol-offer"' not in receipt(till, sell(cashier, 30000, member=member.pk))

    def test_a_refunded_sale_offers_nothing(self, till, cashier, rules):
        sale = sell(cashier, 30000)
        services.refund_sale(cashier, sale, RefundAsk(all=True), key="r")
        assert 'id="enrol-offer"' not in receipt(till, sale)

    def test_without_rules_the_till_still_offers_to_enrol(self, till, cashier, system, stores):
        apply_program(system, PROGRAM)
        page = receipt(till, sell(cashier, 100))
        assert "Enrol this customer" in page
        assert "qualifies" not in page


class TestEnrolInOneStep:
    def test_the_member_is_registered_and_the_sale_is_theirs(self, till, cashier, rules):
        sale = sell(cashier, 25000)
        answer = enrol(till, sale, mobile="139 0013 9000", name="李四")
        assert answer.status_code == 302
        member = Member.objects.get(mobile="13900139000")
        assert (member.name, member.store.code, member.source_channel) == ("李四", "S1", "till")
        sale.refresh_from_db()
        assert sale.member_id == member.pk
        assert MemberStats.objects.get(member=member).total_spend == 25000
        page = till.get(answer["Location"]).content.decode()
        assert member.card_no in page

    def test_sent_twice_is_one_member(self, till, cashier, rules):
        sale = sell(cashier, 25000)
        enrol(till, sale, mobile="13900139000")
        again = enrol(till, sale, mobile="13900139000")
        assert again.status_code == 302
        assert Member.objects.count() == 1

    def test_a_bad_mobile_is_shown_on_the_form(self, till, cashier, rules):
        sale = sell(cashier, 25000)
        answer = enrol(till, sale, mobile="12345")
        assert answer.status_code == 200
        page = answer.content.decode()
        assert 'id="enrol-form"' in page and "field-error" in page
        assert not Member.objects.exists()

    def test_a_known_mobile_is_shown_on_the_form(self, till, cashier, system, rules):
        enrol(till, sell(cashier, 25000), mobile="13900139000")
        sale = sell(cashier, 25000)
        answer = enrol(till, sale, mobile="13900139000")
        assert "already exists" in answer.content.decode()
        sale.refresh_from_db()
        assert sale.member_id is None

    def test_a_sale_that_does_not_qualify_cannot_be_used(self, till, cashier, rules):
        sale = sell(cashier, 100)
        enrol(till, sale, mobile="13900139000")
        assert not Member.objects.exists()

    def test_min_age_asks_for_the_birthday(self, till, cashier, system, stores):
        apply_program(system, {**PROGRAM, "recruitment": {"min_purchase": 100, "min_age": 18}})
        sale = sell(cashier, 100)
        assert 'name="birthday"' in receipt(till, sale)
        answer = enrol(till, sale, mobile="13900139000", birthday="2020-01-01")
        assert "at least 18" in answer.content.decode()
        assert enrol(till, sale, mobile="13900139000", birthday="1990-01-01").status_code == 302
        assert Member.objects.count() == 1

    def test_a_marketer_cannot_enrol_from_a_receipt(self, marketer, cashier, rules):
        sale = sell(cashier, 25000)
        answer = enrol(logged_in(marketer), sale, mobile="13900139000")
        assert answer.status_code == 403
        assert not Member.objects.exists()
