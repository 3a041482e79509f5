"""The card page's codes (F-20): the QR token and the barcode digits the till accepts for 60
seconds, and reporting the card lost from the member's phone."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.test import Client
from django.utils import timezone

from patron.cards.models import Card, CardEvent, CardStatus
from patron.core.errors import DomainError, NotFound
from patron.portal import codes
from patron.portal.models import DynamicCode
from patron.sales.services import identify_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def page_codes(phone: Client) -> codes.MemberCodes:
    response = phone.get("/m/")
    assert response.status_code == 200
    return response.context["codes"]


def test_the_pages_qr_holds_a_token_the_till_accepts_for_60_seconds(
    phone, portal_member, cashier, monkeypatch
):
    response = phone.get("/m/")
    shown = response.context["codes"]
    # The SVG on the page is the token's QR (segno draws the same token the same way).
    assert 'class="qr"' in codes.qr_svg(shown.token)
    assert codes.qr_svg(shown.token) in response.content.decode()
    assert identify_member(cashier, shown.token).pk == portal_member.pk
    later = time.time() + 61
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    with pytest.raises(DomainError) as refused:
        identify_member(cashier, shown.token)
    assert refused.value.code == "qr_expired"


def test_the_barcode_digits_identify_the_member_at_the_till(api, phone, portal_member):
    shown = page_codes(phone)
    assert re.fullmatch(r"9\d{17}", shown.digits)
    html = phone.get("/m/").content.decode()
    assert 'class="barcode"' in html and "style=" not in html
    found = api.get("/api/v1/identify", {"code": shown.digits})
    assert found.status_code == 200, found.content
    assert found.json()["id"] == portal_member.pk
    # Typed with a Chinese input method (full-width digits) it is the same code.
    wide = shown.digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert api.get("/api/v1/identify", {"code": wide}).json()["id"] == portal_member.pk


def test_an_expired_barcode_is_refused_like_an_expired_qr(api, phone, monkeypatch):
    shown = page_codes(phone)
    later = timezone.now() + dt.timedelta(seconds=codes.CODE_TTL + 1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    refused = api.get("/api/v1/identify", {"code": shown.digits})
    assert refused.status_code == 422
    assert refused.json()["code"] == "qr_expired"


def test_an_unknown_barcode_names_nobody(api, phone):
    shown = page_codes(phone)
    unknown = "9" + ("0" * 17 if shown.digits != "9" + "0" * 17 else "1" * 17)
    assert api.get("/api/v1/identify", {"code": unknown}).status_code == 404


def test_another_merchants_till_cannot_use_the_code(other_api, phone):
    shown = page_codes(phone)
    assert other_api.get("/api/v1/identify", {"code": shown.digits}).status_code == 404
    assert other_api.get("/api/v1/identify", {"code": shown.token}).status_code == 404


def test_qr_endpoint_gives_fresh_codes_never_cached(phone, portal_member, cashier):
    first = page_codes(phone)
    response = phone.get("/m/qr")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert set(data) >= {"qr_svg", "barcode_svg", "digits", "expires_in"}
    assert data["digits"] != first.digits and 55 <= data["expires_in"] <= 60
    assert 'class="qr"' in data["qr_svg"] and 'class="barcode"' in data["barcode_svg"]
    # Both codes work until they expire: a refresh does not cut the one on screen short.
    assert identify_member(cashier, first.digits).pk == portal_member.pk
    assert identify_member(cashier, data["digits"]).pk == portal_member.pk


def test_old_codes_are_cleared_and_live_ones_are_unique(portal_member):
    stale = DynamicCode.objects.create(
        merchant_id=portal_member.merchant_id,
        member=portal_member,
        digits="9" + "1" * 17,
        created_at=timezone.now() - dt.timedelta(days=1),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    issued = {codes.issue_code(portal_member).digits for _ in range(20)}
    assert len(issued) == 20
    assert not DynamicCode.objects.filter(pk=stale.pk).exists()


def test_report_lost_once_then_the_till_refuses_the_member(api, phone, portal_member):
    shown = page_codes(phone)
    confirm = phone.get("/m/card/lost")
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    key = re.search(r'name="once" value="([0-9a-f]{32})"', html).group(1)

    done = phone.post("/m/card/lost", {"once": key, "reason": "丢在地铁上"})
    assert done.status_code == 302 and done["Location"] == "/m/"
    again = phone.post("/m/card/lost", {"once": key, "reason": "丢在地铁上"})  # a double tap
    assert again.status_code == 302
    card = Card.objects.get(member=portal_member)
    assert card.status == CardStatus.LOST
    assert CardEvent.objects.filter(card=card, kind=CardEvent.Kind.LOST).count() == 1

    page = phone.get("/m/")
    text = page.content.decode()
    assert page.context["codes"] is None
    assert 'class="qr"' not in text and 'class="barcode"' not in text
    assert "您的卡已挂失" in text and "补" in text
    assert phone.get("/m/qr").status_code == 409

    by_card = api.get("/api/v1/identify", {"code": portal_member.card_no})
    assert by_card.status_code == 409 and by_card.json()["code"] == "card_lost"
    by_barcode = api.get("/api/v1/identify", {"code": shown.digits})
    assert by_barcode.status_code == 409 and by_barcode.json()["code"] == "card_lost"


def test_report_lost_without_the_forms_key_changes_nothing(phone, portal_member):
    response = phone.post("/m/card/lost", {"once": "not-a-key"})
    assert response.status_code == 422
    assert "表单已过期" in response.content.decode()
    assert not Card.objects.filter(member=portal_member, status=CardStatus.LOST).exists()


def test_a_code_of_nobody_is_not_ours(merchant):
    assert codes.identify(merchant, "12345") is None
    assert codes.identify(merchant, "9" * 18) is None
    with pytest.raises(NotFound):
        identify_member_for(merchant, "9" * 18)


def identify_member_for(merchant, text):
    from patron.tenancy.actor import Actor

    return identify_member(Actor.system(merchant), text)


def test_the_face_image_of_the_members_own_card_only(
    phone, portal_member, system, settings, tmp_path
):
    from patron.cards import faces
    from patron.cards.services import IssueRequest, issue_card
    from patron.program.services import apply_program

    settings.MEDIA_ROOT = str(tmp_path)
    assert phone.get("/m/card/face").status_code == 404  # no product, no image
    apply_program(system, {"card_products": [{"code": "std", "name": "会员卡"}]})
    card = issue_card(system, portal_member, IssueRequest(product="std"), key="issue")
    card.product.face_image = faces.store(b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "png")
    card.product.save(update_fields=["face_image"])
    response = phone.get("/m/card/face")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert 'data-image="/m/card/face"' in phone.get("/m/").content.decode()
