"""The card product editor (/card-products/): every field saved as a program revision, fees in
yuan (a negative one a form error), face images checked and served safely, HQ only."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patron.cards.models import CardProduct
from patron.program.models import ProgramRevision
from patron.program.services import export_program
from tests.cards.memberships_support import card_program_fixture  # noqa: F401
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db


def png(width: int = 64, height: int = 40) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


FORM = {
    "code": "gold_card",
    "name": "金卡",
    "fee": "58.50",
    "tier": "gold",
    "validity_days": "730",
    "physical": "on",
    "face_colour": "#aa3300",
    "fee_waived_by_topup": "1000",
    "first_deposit_min": "2000",
    "first_deposit_tier": "gold",
    "replace_fee": "15",
    "replace_wait_days": "3",
    "paid_days": "",
    "refund_allowed": "on",
    "refund_fee": "on",
    "refund_bonus": "keep",
}


@pytest.fixture
def editor(hq, card_program, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return logged_in(hq, "zh-hans")


def test_adding_saves_every_field_as_a_program_revision(editor, system):
    revisions = ProgramRevision.objects.count()
    answer = editor.post("/card-products/new/", FORM)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    product = CardProduct.objects.get(code="gold_card")
    assert (product.fee, product.tier_code, product.validity_days, product.physical) == (
        5850,
        "gold",
        730,
        True,
    )
    assert (product.fee_waived_by_topup, product.first_deposit_min) == (100000, 200000)
    assert (product.replace_fee, product.replace_wait_days, product.face_colour) == (
        1500,
        3,
        "#AA3300",
    )
    assert product.refund == {"fee": True, "bonus": "keep", "pro_rata": False, "allowed": True}
    assert ProgramRevision.objects.count() == revisions + 1
    exported = {row["code"]: row for row in export_program(system)["card_products"]}
    assert exported["gold_card"]["first_deposit"] == {"min": 200000, "tier": "gold"}


def test_editing_keeps_the_code_and_ending_ends(editor):
    page = editor.get("/card-products/svip/edit/").content.decode()
    assert 'value="199"' in page and 'id="face-preview"' in page
    answer = editor.post(
        "/card-products/svip/edit/",
        {**FORM, "code": "hacked", "name": "年卡SVIP Plus", "fee": "299", "paid_days": "365"},
    )
    assert answer.status_code == 302
    product = CardProduct.objects.get(code="svip")
    assert (product.name, product.fee, product.paid_days) == ("年卡SVIP Plus", 29900, 365)
    assert not CardProduct.objects.filter(code="hacked").exists()
    assert editor.post("/card-products/month/end/").status_code == 302
    assert not CardProduct.objects.get(code="month").is_active
    listed = editor.get("/card-products/").content.decode()
    assert "年卡SVIP Plus" in listed and 'data-product="month"' not in listed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fee", "-38"),
        ("fee", "abc"),
        ("replace_fee", "-1"),
        ("face_colour", "red"),
        ("code", "有 空格"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(editor, field, value):
    before = ProgramRevision.objects.count()
    answer = editor.post("/card-products/new/", {**FORM, field: value})
    assert answer.status_code == 200
    assert 'class="field-error"' in answer.content.decode()
    assert ProgramRevision.objects.count() == before
    assert not CardProduct.objects.filter(code="gold_card").exists()


def test_a_negative_fee_says_so(editor):
    answer = editor.post("/card-products/new/", {**FORM, "fee": "-38"}).content.decode()
    assert "不能为负" in answer or "cannot be negative" in answer


def test_a_duplicate_code_is_refused(editor):
    answer = editor.post("/card-products/new/", {**FORM, "code": "svip"})
    assert answer.status_code == 200 and 'class="field-error"' in answer.content.decode()


def test_a_face_image_is_checked_stored_and_served(editor, settings):
    upload = SimpleUploadedFile("face.png", png(), content_type="image/png")
    answer = editor.post("/card-products/new/", {**FORM, "face_upload": upload})
    assert answer.status_code == 302
    product = CardProduct.objects.get(code="gold_card")
    assert product.face_image.startswith("card-faces/") and product.face_image.endswith(".png")
    stored = settings.MEDIA_ROOT / product.face_image
    assert stored.read_bytes() == png()
    served = editor.get("/card-products/face/" + product.face_image.split("/")[1])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert editor.get("/card-products/face/" + "0" * 32 + ".png").status_code == 404
    assert editor.get("/card-products/face/..%2Fsecret_key").status_code == 404


@pytest.mark.parametrize(
    "content",
    [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a......", png(8, 8), png(5000, 20)],
)
def test_a_bad_image_is_refused(editor, content):
    upload = SimpleUploadedFile("face.png", content, content_type="image/png")
    answer = editor.post("/card-products/new/", {**FORM, "face_upload": upload})
    assert answer.status_code == 200 and 'class="field-error"' in answer.content.decode()
    assert not CardProduct.objects.filter(code="gold_card").exists()


def test_hq_only(cashier, marketer, card_program):
    assert logged_in(cashier).get("/card-products/").status_code == 403
    assert logged_in(marketer).get("/card-products/new/").status_code == 403
