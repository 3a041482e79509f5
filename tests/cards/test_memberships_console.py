"""The console's paid-membership pages: the member page's panel, buying with a confirm step
(one purchase per submission), refunding, and the list for HQ and store managers."""

from __future__ import annotations

import re

import pytest

from patron.cards import memberships
from patron.cards.models import CardPayment, Membership
from tests.cards.memberships_support import card_program_fixture, member_fixture  # noqa: F401
from tests.console.conftest import logged_in, manager  # noqa: F401

pytestmark = pytest.mark.django_db


def token_in(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f-]{36})"', html).group(1)


def test_panel_buy_confirm_and_refund(cashier, member):
    page = logged_in(cashier, "zh-hans")
    detail = page.get(f"/members/{member.pk}/").content.decode()
    assert 'id="member-membership"' in detail and f"/memberships/member/{member.pk}/buy/" in detail

    form = page.get(f"/memberships/member/{member.pk}/buy/").content.decode()
    assert "年卡SVIP" in form and "会员卡" not in form.split('id="membership-form"')[1]
    checked = page.post(
        f"/memberships/member/{member.pk}/buy/",
        {"product": "svip", "payment_method": "wechat", "step": "preview"},
    ).content.decode()
    assert 'data-figure="amount" data-fen="19900"' in checked and "¥199.00" in checked
    assert not Membership.objects.exists()  # the check step writes nothing
    token = token_in(checked)
    body = {"product": "svip", "payment_method": "wechat", "step": "confirm", "token": token}
    done = page.post(f"/memberships/member/{member.pk}/buy/", body)
    assert done.status_code == 302
    page.post(f"/memberships/member/{member.pk}/buy/", body)  # a double click
    bought = Membership.objects.get()
    assert CardPayment.objects.get().method == "wechat"

    detail = page.get(f"/members/{member.pk}/").content.decode()
    assert 'data-figure="days-left"' in detail and "金卡会员" in detail
    assert bought.valid_until.astimezone().strftime("%Y") in detail

    refund_url = f"/memberships/member/{member.pk}/{bought.pk}/refund/"
    shown = page.get(refund_url).content.decode()
    assert 'data-figure="refund-amount" data-fen="19900"' in shown
    refunded = page.post(refund_url, {"payment_method": "cash", "token": token_in(shown)})
    assert refunded.status_code == 302
    bought.refresh_from_db()
    assert bought.status == "refunded"
    assert CardPayment.objects.get(kind="membership_refund").amount == -19900


def test_bad_choices_are_form_errors(cashier, member):
    page = logged_in(cashier)
    answer = page.post(
        f"/memberships/member/{member.pk}/buy/",
        {"product": "std", "payment_method": "cash", "step": "preview"},
    )
    assert answer.status_code == 200 and b"field-error" in answer.content
    answer = page.post(
        f"/memberships/member/{member.pk}/buy/",
        {"product": "svip", "payment_method": "cash", "step": "confirm", "token": "nope"},
    )
    assert answer.status_code == 200 and not Membership.objects.exists()


def test_a_refund_the_rule_forbids_shows_why(cashier, member):
    bought = memberships.buy_membership(cashier, member, "month", key="m")
    page = logged_in(cashier)
    shown = page.get(f"/memberships/member/{member.pk}/{bought.pk}/refund/").content.decode()
    assert "cannot be refunded" in shown and "membership-refund-form" not in shown


def test_the_list_for_hq_and_managers(system, hq, cashier, manager, member):  # noqa: F811
    from patron.members.services import register_member

    other = register_member(system, {"mobile": "13900139001", "name": "李四", "store": "S1"})
    third = register_member(system, {"mobile": "13900139002", "name": "王五", "store": "S2"})
    memberships.buy_membership(cashier, member, "svip", key="a")  # 365 days left
    memberships.buy_membership(cashier, other, "month", key="b")  # 30 days left: soon
    ended = memberships.buy_membership(system, third, "svip", key="c")
    Membership.objects.filter(pk=ended.pk).update(
        valid_from=ended.valid_from.replace(year=2020),
        valid_until=ended.valid_until.replace(year=2021),
    )
    memberships.expire_due()
    hq_page = logged_in(hq)
    assert hq_page.get("/memberships/").content.decode().count("data-membership=") == 2
    expiring = hq_page.get("/memberships/?view=expiring").content.decode()
    assert expiring.count("data-membership=") == 1 and "李四" in expiring
    expired = hq_page.get("/memberships/?view=expired").content.decode()
    assert expired.count("data-membership=") == 1 and "王五" in expired
    # A store manager sees their store's members only (王五 is at S2).
    assert "王五" not in logged_in(manager).get("/memberships/?view=expired").content.decode()
    assert logged_in(cashier).get("/memberships/").status_code == 403
    assert hq_page.get("/memberships/?view=bogus").status_code == 200
