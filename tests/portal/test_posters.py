"""Console join posters (F-03): per store, a printable page with a QR of the absolute join URL;
store-bound staff see only their own store."""

from __future__ import annotations

import re

import pytest

from patron.portal.poster_views import qr_svg
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db

JOIN_S1 = "http://testserver/m/join?store=S1&merchant=acme"


def qr_paths(svg: str) -> list[str]:
    return re.findall(r'<path[^>]* d="([^"]+)"', svg)


def test_hq_sees_every_open_store(hq, stores):
    from patron.tenancy.models import Store

    Store.objects.create(merchant=hq.merchant, code="S9", name="已关店", is_active=False)
    page = logged_in(hq).get("/portal/posters/")
    assert page.status_code == 200
    assert b"/portal/posters/S1/" in page.content and b"/portal/posters/S2/" in page.content
    assert b"/portal/posters/S9/" not in page.content


def test_the_poster_has_a_qr_of_the_absolute_join_url(hq, stores):
    page = logged_in(hq, "zh-hans").get("/portal/posters/S1/")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text
    assert qr_paths(text) == qr_paths(qr_svg(JOIN_S1))  # the same modules: the same URL
    assert JOIN_S1.replace("&", "&amp;") in text  # printed under the code
    assert "扫码注册会员" in text and "西湖店" in text and "Acme 连锁" in text
    assert "style=" not in text and "<script" not in text  # the CSP allows neither
    assert "portal/poster.css" in text


def test_the_qr_svg_file(hq, stores):
    answer = logged_in(hq).get("/portal/posters/S2/qr.svg")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/svg+xml"
    assert qr_paths(answer.content.decode()) == qr_paths(
        qr_svg("http://testserver/m/join?store=S2&merchant=acme")
    )


def test_a_store_manager_sees_only_their_store(system, stores):
    manager = staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])
    client = logged_in(manager)
    listing = client.get("/portal/posters/")
    assert b"/portal/posters/S1/" in listing.content
    assert b"/portal/posters/S2/" not in listing.content
    assert client.get("/portal/posters/S1/").status_code == 200
    assert client.get("/portal/posters/S2/").status_code == 404
    assert client.get("/portal/posters/S2/qr.svg").status_code == 404


def test_a_cashier_prints_their_stores_poster(cashier, stores):
    client = logged_in(cashier)
    assert client.get("/portal/posters/S1/").status_code == 200
    assert client.get("/portal/posters/S2/").status_code == 404


def test_a_marketer_and_strangers_are_refused(marketer, client, stores):
    assert logged_in(marketer).get("/portal/posters/S1/").status_code == 403
    assert client.get("/portal/posters/S1/").status_code == 302  # to the console log-in


def test_another_merchants_store_is_not_found(hq, stores):
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store

    other = create_merchant("other", "Other Co")
    create_store(Actor.system(other), "X1", "别家店")
    assert logged_in(hq).get("/portal/posters/X1/").status_code == 404
