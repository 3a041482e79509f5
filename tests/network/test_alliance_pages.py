"""The console's alliance pages: invite, accept with a button, the counter's exchange with a
preview, the statement (and its xlsx) on both sides; HQ only manages."""

from __future__ import annotations

from io import BytesIO

from django.test import Client

from patron.network.models import Alliance, AllianceExchange
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_merchant, create_staff
from tests.network.alliance_support import member_with_points, points_of, reconciled, tea

__all__ = ["tea"]  # fixtures


def logged_in(merchant, username: str, role: str = Role.HQ_ADMIN, store=None) -> Client:
    staff = create_staff(Actor.system(merchant), username, "password123", role, store)
    client = Client()
    client.force_login(staff.user)
    return client


def test_invite_accept_exchange_and_statement_in_the_console(merchant, stores, tea):
    acme_hq = logged_in(merchant, "acme-hq")
    tea_hq = logged_in(tea, "tea-hq")
    page = acme_hq.get("/network/alliances/")
    assert page.status_code == 200 and 'id="alliance-invite"' in page.content.decode()
    # A bad invitation: the form says why, nothing is written.
    bad = acme_hq.post(
        "/network/alliances/",
        {
            "partner": "acme",
            "points": 100,
            "partner_points": 80,
            "value_points": 100,
            "value_amount": 100,
        },
    )
    assert bad.status_code == 200 and "商户不能与自己结盟" in bad.content.decode()
    assert not Alliance.objects.exists()
    sent = acme_hq.post(
        "/network/alliances/",
        {
            "partner": "tea",
            "points": 100,
            "partner_points": 80,
            "value_points": 100,
            "value_amount": 100,
        },
    )
    assert sent.status_code == 302
    alliance = Alliance.objects.get()
    listed = tea_hq.get("/network/alliances/").content.decode()
    assert "Acme 连锁" in listed and 'data-action="accept"' in listed
    assert "我方 80 积分 = 对方 100 积分" in listed  # the rate, in the tea house's words
    assert acme_hq.post(f"/network/alliances/{alliance.pk}/accept/").status_code == 302
    alliance.refresh_from_db()
    assert alliance.status == "invited"  # only the partner accepts
    tea_hq.post(f"/network/alliances/{alliance.pk}/accept/")
    alliance.refresh_from_db()
    assert alliance.status == "active"

    wang = member_with_points(merchant, "13800000021", 1000)
    cashier = logged_in(merchant, "acme-cashier", Role.CASHIER, stores["S1"])
    path = f"/network/alliances/{alliance.pk}/exchange/"
    form = cashier.get(path).content.decode()
    assert 'id="exchange-form"' in form
    nonce = form.split('name="nonce" value="')[1].split('"')[0]
    preview = cashier.post(path, {"member": wang.mobile, "points": 500, "nonce": nonce})
    html = preview.content.decode()
    assert 'id="exchange-preview"' in html and "+400" in html
    assert not AllianceExchange.objects.exists()  # a preview writes nothing
    done = cashier.post(
        path, {"member": wang.mobile, "points": 500, "nonce": nonce, "confirm": "1"}
    )
    assert done.status_code == 302
    again = cashier.post(
        path, {"member": wang.mobile, "points": 500, "nonce": nonce, "confirm": "1"}
    )
    assert again.status_code == 302
    assert AllianceExchange.objects.count() == 1 and points_of(wang) == 500
    refused = cashier.post(path, {"member": wang.mobile, "points": 123, "nonce": "x2"})
    assert "120" in refused.content.decode() and "125" in refused.content.decode()
    assert reconciled(merchant, tea)
    # A cashier does not manage alliances nor see statements.
    assert cashier.get(f"/network/alliances/{alliance.pk}/statement/").status_code == 403

    for client in (acme_hq, tea_hq):
        statement = client.get(f"/network/alliances/{alliance.pk}/statement/").content.decode()
        assert "Acme 连锁" in statement and "茶言茶馆" in statement and "¥4.00" in statement
    export = tea_hq.get(f"/network/alliances/{alliance.pk}/statement/", {"format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(export.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][:4] == ["Acme 连锁", "茶言茶馆", 500, 400]

    # Pause, with the confirmation button, keeps it all.
    tea_hq.post(f"/network/alliances/{alliance.pk}/pause/")
    alliance.refresh_from_db()
    assert alliance.status == "paused" and points_of(wang) == 500


def test_another_merchants_alliance_pages_are_404(merchant, stores, tea):
    from patron.network import alliance_services

    other = alliance_services.propose(Actor.system(tea), "acme", 1, 1)
    third_merchant = create_merchant("third", "Third")
    third = logged_in(third_merchant, "third-hq")
    assert third.get(f"/network/alliances/{other.pk}/statement/").status_code == 404
    assert third.post(f"/network/alliances/{other.pk}/end/").status_code == 404
