"""Console pages: the promotions overview and the tier & coupons card of a member."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from patron.promotions import services
from patron.promotions.codes import display_code
from patron.promotions.models import Coupon, CouponStatus
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from tests.conftest import staff_actor

pytestmark = [pytest.mark.django_db]


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def hq_client(hq) -> Client:
    return logged_in(hq)


@pytest.fixture
def cashier_client(cashier) -> Client:
    return logged_in(cashier)


def issue(client: Client, member, template: str, token: str | None = None):
    return client.post(
        f"/promotions/members/{member.pk}/coupons/",
        {"template": template, "token": token or str(uuid.uuid4())},
        follow=True,
    )


# --- overview --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["hq_client", "cashier_client"])
def test_the_overview_describes_tiers_promotions_and_coupons(request, who, applied, member):
    client = request.getfixturevalue(who)
    response = client.get("/promotions/")
    assert response.status_code == 200
    page = response.content.decode()
    tiers = {row.tier.code: row for row in response.context["tiers"]}
    assert list(tiers) == ["normal", "silver", "gold"]
    assert tiers["normal"].members == 1 and tiers["gold"].members == 0
    assert tiers["gold"].multiplier == "1.5×"
    assert tiers["gold"].upgrade == "spend ¥5,000.00 in 12 months or top up ¥1,000.00 at once"
    assert "rooms 80%" in page
    assert "10% off the whole order" in page
    assert "members only; on Tuesday" in page
    assert "2× points" in page and "tiers 金卡会员, 银卡会员; at stores 西湖店" in page
    assert "1 item free on SKUs ROOM-STD" in page
    assert "90 days after issue" in page
    assert "20% off the whole order, at most ¥50.00" in page
    assert 'href="/promotions/"' in page  # the navigation entry


def test_the_overview_renders_in_chinese_without_a_program(hq):
    response = logged_in(hq, "zh-hans").get("/promotions/")
    assert response.status_code == 200
    assert response.context["tiers"] == [] and response.context["promotions"] == []


def test_a_store_manager_counts_their_own_store_only(system, stores, applied, member, s2_member):
    manager = staff_actor(system, "m2", Role.STORE_MANAGER, stores["S2"])
    response = logged_in(manager).get("/promotions/")
    assert {row.tier.code: row.members for row in response.context["tiers"]}["normal"] == 1


def test_logged_out_visitors_are_sent_to_log_in(client, applied):
    response = client.get("/promotions/")
    assert response.status_code == 302 and "login" in response["Location"]


# --- member card -----------------------------------------------------------------------------


def test_member_page_shows_tier_coupons_and_forms_for_hq(hq, hq_client, member):
    coupon = services.issue_coupon(hq, member, "room_night")
    services.set_member_tier(hq, member, "silver")
    page = hq_client.get(f"/members/{member.pk}/").content.decode()
    assert 'data-tier="silver"' in page
    assert display_code(coupon.code) in page
    assert 'id="issue-coupon-form"' in page and 'id="set-tier-form"' in page
    assert f'action="/promotions/coupons/{coupon.pk}/end/"' in page


def test_a_cashier_sees_coupons_but_no_forms(hq, cashier_client, member):
    coupon = services.issue_coupon(hq, member, "room_night")
    response = cashier_client.get(f"/members/{member.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert display_code(coupon.code) in page and 'data-tier="normal"' in page
    assert 'id="issue-coupon-form"' not in page and 'id="set-tier-form"' not in page
    assert "/end/" not in page


def test_issue_a_coupon_from_the_member_page(hq_client, member):
    token = str(uuid.uuid4())
    response = issue(hq_client, member, "room_night", token)
    assert response.status_code == 200
    coupon = Coupon.objects.get(member=member)
    assert coupon.issue_key == f"console-coupon:{token}" and coupon.channel == "console"
    page = response.content.decode()
    assert f"Coupon 免费房券 issued: {display_code(coupon.code)}." in page
    # The same form posted twice (double click) is one coupon.
    again = issue(hq_client, member, "room_night", token)
    assert "already issued" in again.content.decode()
    assert Coupon.objects.filter(member=member).count() == 1


def test_refusals_come_back_as_messages(hq_client, member):
    issue(hq_client, member, "room_night")
    issue(hq_client, member, "room_night")
    page = issue(hq_client, member, "room_night").content.decode()
    assert "already has 2 coupon(s) of &#x27;room_night&#x27;, the limit." in page
    page = issue(hq_client, member, "nope").content.decode()
    assert "Select a valid choice" in page
    page = issue(hq_client, member, "room_night", token="not-a-token").content.decode()
    assert "This form has expired" in page
    assert Coupon.objects.count() == 2


def test_a_cashier_may_not_issue_or_set_tiers(cashier_client, member):
    assert issue(cashier_client, member, "room_night").status_code == 403
    response = cashier_client.post(f"/promotions/members/{member.pk}/tier/", {"tier": "gold"})
    assert response.status_code == 403
    assert not Coupon.objects.exists()


def test_another_stores_member_is_not_found(system, stores, applied, s2_member):
    manager = staff_actor(system, "m1", Role.STORE_MANAGER, stores["S1"])
    response = logged_in(manager).post(
        f"/promotions/members/{s2_member.pk}/coupons/",
        {"template": "room_night", "token": str(uuid.uuid4())},
    )
    assert response.status_code == 404


def test_set_a_tier_from_the_member_page(hq_client, member):
    response = hq_client.post(
        f"/promotions/members/{member.pk}/tier/",
        {"tier": "gold", "reason": "开业贵宾"},
        follow=True,
    )
    member.refresh_from_db()
    assert member.tier.code == "gold"
    assert "is now on tier 金卡会员." in response.content.decode()
    assert re.search(r'data-tier="gold"', response.content.decode())


def test_withdraw_a_coupon(hq, hq_client, member):
    coupon = services.issue_coupon(hq, member, "room_night")
    path = f"/promotions/coupons/{coupon.pk}/end/"
    page = hq_client.post(path, {"reason": ""}, follow=True).content.decode()
    assert "A reason is required" in page
    page = hq_client.post(path, {"reason": "wrong member"}, follow=True).content.decode()
    assert "withdrawn" in page
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.ENDED
    assert hq_client.post("/promotions/coupons/999999/end/", {"reason": "x"}).status_code == 404


def test_the_overview_names_products_not_skus(hq_client, applied, system):
    from patron.catalogue.services import put_product

    put_product(system, "ROOM-STD", {"name": "湖景标准间", "category": "rooms", "price": 32000})
    page = hq_client.get("/promotions/").content.decode()
    assert "1 item free on SKUs 湖景标准间" in page
    assert "ROOM-STD" not in page.split("1 item free on SKUs", 1)[1][:40]
