"""The card pages of the console: lookup, a card's page, the wizards and the member panel,
with who may do what."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from patron.cards.models import Card, CardEvent
from patron.cards.services import IssueRequest, issue_card
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_staff

PROGRAM = {
    "tiers": [{"code": "normal", "name": "普通会员", "rank": 0}],
    "card_products": [{"code": "std", "name": "会员卡", "fee": 1000, "replace_fee": 500}],
}
TOKEN = "8d6c2a3e-0f4b-4f53-9d2e-2b8b1d0e6a11"


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def member(system, stores):
    apply_program(system, PROGRAM)
    member = register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})
    issue_card(system, member, IssueRequest(product="std", physical_id="MAG-77"), key="k-issue")
    ledger.top_up(system, member, 10000, key="fund")
    return Member.objects.get(pk=member.pk)


@pytest.fixture
def manager(system, stores) -> Actor:
    staff = create_staff(system, "manager1", "password123", Role.STORE_MANAGER, stores["S1"])
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


@pytest.mark.parametrize("query", ["13800138000", "MAG-77", "8138"])
def test_lookup_by_mobile_physical_id_or_card_number(cashier, member, query):
    query = member.card_no if query == "8138" else query
    answer = logged_in(cashier).get("/cards/", {"q": query})
    assert answer.status_code == 302 and answer.url == f"/cards/{member.card_no}/"
    page = logged_in(cashier).get(answer.url)
    assert page.status_code == 200
    assert b"card-history" in page.content and "会员卡".encode() in page.content


def test_lookup_finding_nothing_says_so(cashier, member):
    answer = logged_in(cashier).get("/cards/", {"q": "nothing-here"})
    assert answer.status_code == 200 and b"No card matches" in answer.content


def test_a_cashier_reports_lost_but_may_not_refund(cashier, member):
    client = logged_in(cashier)
    assert client.get(f"/cards/{member.card_no}/refund/").status_code == 403
    page = client.get(f"/cards/{member.card_no}/lost/")
    assert page.status_code == 200
    done = client.post(f"/cards/{member.card_no}/lost/", {"token": TOKEN, "confirm": "1"})
    assert done.status_code == 302
    assert Card.objects.get(card_no=member.card_no).status == "lost"
    again = client.post(f"/cards/{member.card_no}/lost/", {"token": TOKEN, "confirm": "1"})
    assert again.status_code == 302 and CardEvent.objects.filter(kind="lost").count() == 1
    detail = client.get(f"/cards/{member.card_no}/")
    assert b"card-frozen" in detail.content


def test_replace_in_the_wizard_shows_the_fee_and_gives_a_new_number(cashier, member):
    client = logged_in(cashier, "zh-hans")
    old = member.card_no
    assert client.get(f"/cards/{old}/replace/").status_code == 302  # not lost: not offered
    client.post(f"/cards/{old}/lost/", {"token": TOKEN, "confirm": "1"})
    page = client.get(f"/cards/{old}/replace/")
    assert "¥5.00".encode() in page.content
    done = client.post(
        f"/cards/{old}/replace/",
        {"token": TOKEN.replace("8d", "9d"), "confirm": "1", "payment_method": "wechat"},
    )
    new = Member.objects.get(pk=member.pk).card_no
    assert new != old and done.url == f"/cards/{new}/"
    old_page = client.get(f"/cards/{old}/")
    assert "已补换".encode() in old_page.content and new.encode() in old_page.content


def test_refund_wizard_shows_what_goes_back_and_needs_the_identity_check(manager, member):
    client = logged_in(manager)
    page = client.get(f"/cards/{member.card_no}/refund/")
    assert b'data-figure="principal"' in page.content and "¥100.00".encode() in page.content
    refused = client.post(f"/cards/{member.card_no}/refund/", {"token": TOKEN, "confirm": "1"})
    assert refused.status_code == 422 and b"identity" in refused.content
    assert Card.objects.get(card_no=member.card_no).status == "active"
    done = client.post(
        f"/cards/{member.card_no}/refund/",
        {"token": TOKEN, "confirm": "1", "identity_checked": "on"},
    )
    assert done.status_code == 302
    assert Card.objects.get(card_no=member.card_no).status == "closed"
    assert ledger_selectors.member_balances(member)["stored_value"]["principal"] == 0


def test_the_member_page_lists_the_cards_with_actions(cashier, member):
    page = logged_in(cashier).get(f"/members/{member.pk}/")
    assert b'id="member-cards"' in page.content
    assert f'href="/cards/{member.card_no}/lost/"'.encode() in page.content
    assert f'href="/cards/{member.card_no}/refund/"'.encode() not in page.content


def test_another_stores_cashier_does_not_find_the_card(system, stores, member):
    staff = create_staff(system, "cashier2", "password123", Role.CASHIER, stores["S2"])
    other = Actor(merchant=system.merchant, staff=staff)
    assert logged_in(other).get(f"/cards/{member.card_no}/").status_code == 404


def test_the_audit_log_tells_each_step_in_words(system, member):
    from patron.cards.services import replace_card, report_lost
    from patron.tenancy.audit_display import present_entries
    from patron.tenancy.models import AuditEntry

    report_lost(system, member.card_no, key="a-lost")
    new = replace_card(system, member.card_no, key="a-replace")
    entries = AuditEntry.objects.filter(object_type="card").order_by("pk")
    with translation.override("en"):
        sentences = [row.summary for row in present_entries(entries, system.merchant)]
    assert sentences[0].startswith("Issued the card") and "张三" in sentences[0]
    assert f"Reported the card {member.card_no} of 张三" in sentences[1]
    assert f"with {new.card_no}" in sentences[2]
