"""/m/privacy: what we keep, and its download as JSON and xlsx — the member's data and nobody
else's, audited, never cached."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from patron.members.services import register_member
from patron.tenancy.models import AuditEntry
from tests.portal.privacy_support import apply, give_history, page

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def two_members(system, stores, portal_member):
    apply(system)
    other = register_member(
        system, {"mobile": "13698765432", "name": "赵大海", "store": "S2", "email": "z@x.cn"}
    )
    give_history(system, portal_member, tea="龙井", note="生日快乐林小雨", top_up=10000)
    give_history(system, other, tea="普洱熟茶", note="赵大海的专属优惠")
    return portal_member, other


def export_links(html: str) -> list[str]:
    return [href for href in re.findall(r'href="([^"]+)"', html) if "export" in href]


def xlsx_text(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        return "".join(
            book.read(name).decode() for name in book.namelist() if name.endswith(".xml")
        )


def test_the_page_shows_the_sections_and_links(phone, two_members):
    html = page(phone, "/m/privacy")
    for text in ("林小雨", "13512345678", "¥100.00", "¥20.00"):
        assert text in html
    assert "赵大海" not in html and "13698765432" not in html
    assert sorted(export_links(html)) == ["/m/privacy/export.json", "/m/privacy/export.xlsx"]
    for path in ("/m/privacy/correct", "/m/privacy/consent", "/m/privacy/delete"):
        assert f'href="{path}"' in html
    assert "<script>" not in html and "style=" not in html


def test_json_holds_exactly_the_members_data(phone, two_members):
    member, other = two_members
    response = phone.get("/m/privacy/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    data = json.loads(text)
    assert data["profile"]["name"] == "林小雨" and data["profile"]["mobile"] == "13512345678"
    assert [line["name"] for sale in data["sales"] for line in sale["lines"]] == ["龙井"]
    assert data["tier"] == "普通会员"
    assert data["balances"]["stored_value_principal"] == 10000
    assert data["balances"]["stored_value_bonus"] == 2000
    assert [c["name"] for c in data["coupons"]] == ["满100减20"]
    assert [m["body"] for m in data["messages"]] == ["生日快乐林小雨"]
    assert {(c["topic"], c["granted"]) for c in data["consents"]} >= {("短信", True)}
    assert {entry["what"] for entry in data["ledger"]} >= {"充值"}
    for foreign in ("赵大海", "13698765432", "普洱熟茶", "z@x.cn", other.card_no):
        assert foreign not in text


def test_xlsx_holds_exactly_the_members_data(phone, two_members):
    member, other = two_members
    response = phone.get("/m/privacy/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "no-store" in response["Cache-Control"]
    text = xlsx_text(response.content)
    for own in ("林小雨", "13512345678", "龙井", "生日快乐林小雨", member.card_no):
        assert own in text
    for foreign in ("赵大海", "13698765432", "普洱熟茶", other.card_no):
        assert foreign not in text


def test_every_link_with_export_downloads_the_members_name(phone, two_members):
    for href in export_links(page(phone, "/m/privacy")):
        body = phone.get(href).content
        text = xlsx_text(body) if body[:2] == b"PK" else body.decode()
        assert "林小雨" in text


def test_each_export_is_audited(phone, two_members):
    member, _other = two_members
    phone.get("/m/privacy/export.json")
    phone.get("/m/privacy/export.xlsx")
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.EXPORT, object_type="member", object_id=str(member.pk)
    )
    assert sorted(e.changes["format"][1] for e in entries) == ["json", "xlsx"]
    assert {e.channel for e in entries} == {"h5"}
    assert all(e.changes["event"][1] == "member.exported_own_data" for e in entries)


def test_anonymous_visitors_are_sent_to_log_in(client, portal_member):
    for path in ("/m/privacy", "/m/privacy/export.json", "/m/privacy/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/m/login" in response["Location"]
