"""The member page links to the alliance (its card at each active partner, the points moved,
the counter's exchange filled in for this member) and a cashier reaches the exchange from the
nav; the exchange page links back to the member."""

from __future__ import annotations

from django.test import Client

from patron.members.models import Member
from patron.network import alliance_services as services
from patron.network.models import Alliance
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_staff
from tests.network.alliance_support import acme_api, alliance, member_with_points, tea, tea_api

__all__ = ["acme_api", "alliance", "tea", "tea_api"]  # fixtures


def logged_in(merchant, username: str, role: str, store=None) -> Client:
    staff = create_staff(Actor.system(merchant), username, "password123", role, store)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(staff.user)
    return client


def test_member_page_shows_the_partner_and_the_exchange_link(merchant, stores, tea, alliance):
    member = member_with_points(merchant, "13800000001", 1000)
    Member.objects.filter(pk=member.pk).update(store=stores["S1"])  # the cashier's store
    found = Alliance.objects.get(pk=alliance)
    services.exchange(Actor.system(merchant), found, member, 500, key="panel-1")
    cashier = logged_in(merchant, "acme-cashier", Role.CASHIER, stores["S1"])
    page = cashier.get(f"/members/{member.pk}/").content.decode()
    assert 'id="member-alliances"' in page and "茶言茶馆" in page
    link = f"/network/alliances/{alliance}/exchange/?member={member.card_no}"
    assert link in page
    assert "500 points to 茶言茶馆" in page
    form = cashier.get(link).content.decode()
    assert f'value="{member.card_no}"' in form  # the member filled in
    nav = cashier.get("/members/").content.decode()
    assert 'href="/network/alliances/"' in nav  # the cashier's nav reaches the exchange


def test_no_panel_without_partners(merchant, stores):
    member = member_with_points(merchant, "13800000002", 0)
    hq = logged_in(merchant, "acme-hq", Role.HQ_ADMIN)
    assert 'id="member-alliances"' not in hq.get(f"/members/{member.pk}/").content.decode()
