"""Console pages of message templates: list with built-ins, unknown variables as form
errors, live preview, roles (F-37)."""

from __future__ import annotations

from django.test import Client

from patron.campaigns.models import MessageTemplate
from patron.tenancy.models import AuditEntry, Role
from tests.campaigns.channels_support import member
from tests.conftest import staff_actor


def _client(actor) -> Client:
    client = Client()
    client.force_login(actor.staff.user)
    return client


FORM = {
    "code": "thanks2",
    "name": "感谢",
    "purpose": "care",
    "subject_zh": "",
    "subject_en": "",
    "body_zh": "{name}，感谢光临，积分{points}",
    "body_en": "",
    "provider_code": "",
    "is_active": "on",
}


def test_list_shows_builtins(hq):
    page = _client(hq).get("/message-templates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-template="birthday"' in html and "内置" in html


def test_unknown_variable_is_a_form_error_and_nothing_saved(hq):
    page = _client(hq).post("/message-templates/new/", {**FORM, "body_zh": "{name} {foo}"})
    assert page.status_code == 200
    assert "未知变量 {foo}" in page.content.decode()
    assert not MessageTemplate.objects.exists()


def test_create_then_edit(hq):
    client = _client(hq)
    assert client.post("/message-templates/new/", FORM).status_code == 302
    template = MessageTemplate.objects.get(code="thanks2")
    assert AuditEntry.objects.filter(action="create", object_repr="thanks2").exists()
    answer = client.post(f"/message-templates/{template.pk}/edit/", {**FORM, "name": "谢谢"})
    assert answer.status_code == 302
    template.refresh_from_db()
    assert template.name == "谢谢"
    duplicate = client.post("/message-templates/new/", FORM)
    assert "已有代码为 thanks2 的模板" in duplicate.content.decode()


def test_preview_renders_for_a_sample_member(hq, system):
    member(system)
    page = _client(hq).post("/message-templates/preview/", FORM)
    html = page.content.decode()
    assert "张三，感谢光临，积分500回T退订" in html


def test_cashiers_may_not(system, stores):
    cashier = staff_actor(system, "till", Role.CASHIER, stores["S1"])
    assert _client(cashier).get("/message-templates/").status_code == 403


def test_member_page_has_a_messages_panel(hq, system):
    from tests.campaigns.channels_support import queued

    someone = member(system)
    queued(someone, "sms", "会员日九折回T退订", status="sent")
    html = _client(hq).get(f"/members/{someone.pk}/").content.decode()
    assert 'id="member-messages"' in html
    assert "会员日九折" in html and "短信" in html and "已发送" in html
