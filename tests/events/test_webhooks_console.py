"""The webhooks console page: HQ admins only; the list with event names and last delivery,
adding (errors on the form, a generated secret shown once), test, disable, the log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from patron.events import webhooks
from patron.events.dispatch import dispatch_pending
from patron.events.models import Webhook
from patron.events.services import emit
from patron.events.webhook_tasks import send_due
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from tests.conftest import staff_actor
from tests.events.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-the-tests-only"


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


def logged_in(actor: Actor) -> Client:
    client = Client()
    client.force_login(actor.staff.user)
    return client


def text(response) -> str:
    return response.content.decode()


def test_only_hq_admins(hq, marketer, cashier, system, stores):
    manager = staff_actor(system, "mgr1", Role.STORE_MANAGER, stores["S1"])
    assert logged_in(hq).get("/webhooks/").status_code == 200
    for actor in (marketer, cashier, manager):
        assert logged_in(actor).get("/webhooks/").status_code == 403
        assert logged_in(actor).post("/webhooks/", {"url": "https://x.com/"}).status_code == 403
    assert not Webhook.objects.exists()


def test_add_with_event_checkboxes_and_a_generated_secret(hq, receiver):
    client = logged_in(hq)
    page = text(client.get("/webhooks/"))
    assert "销售完成" in page and "会员入会" in page  # the events' Chinese names
    response = client.post("/webhooks/", {"url": receiver.url, "events": ["sale.completed"]})
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert hook.events == ["sale.completed"] and hook.secret.startswith("whsec_")
    page = text(response)
    assert hook.secret in page and "仅此一次显示" in page
    again = text(client.get("/webhooks/"))
    assert hook.secret not in again and receiver.url in again and "销售完成" in again
    assert AuditEntry.objects.filter(object_type="webhook").count() == 1


def test_bad_urls_are_form_errors(hq, monkeypatch):
    monkeypatch.delenv(webhooks.ALLOW_PRIVATE_ENV, raising=False)
    client = logged_in(hq)
    page = text(client.post("/webhooks/", {"url": "ftp://example.com/"}))
    assert "必须是带主机名的 http:// 或 https:// 地址" in page
    page = text(client.post("/webhooks/", {"url": "http://192.168.1.5/hook"}))
    assert "回环、内网或链路本地地址" in page
    assert not Webhook.objects.exists()


def test_test_button_disable_and_delivery_log(hq, merchant, receiver):
    hook = webhooks.create_webhook(hq, receiver.url, [], SECRET)[0]
    client = logged_in(hq)
    page = text(client.post(f"/webhooks/{hook.pk}/test/"))
    assert "接收方在" in page and "返回了 200" in page
    assert receiver.received[-1].json["type"] == "ping"
    emit(merchant.pk, "topup.completed", {"amount": 10000}, member_id=3)
    dispatch_pending()
    send_due(now=dt.datetime(2027, 3, 2, 4, 0, 5, tzinfo=dt.UTC))
    page = text(client.get(f"/webhooks/{hook.pk}/"))
    assert "充值完成" in page and "2027-03-02 12:00:05" in page  # Shanghai time, not ISO
    assert "T04:00" not in page
    listing = text(client.get("/webhooks/"))
    assert "2027-03-02 12:00" in listing
    client.post(f"/webhooks/{hook.pk}/active/", {"active": "0"})
    hook.refresh_from_db()
    assert hook.is_active is False
    assert "已停用" in text(client.get("/webhooks/"))


def test_another_merchant_s_webhook_is_404(hq, receiver):
    from patron.tenancy.services import create_merchant, create_store

    other = Actor.system(create_merchant("other", "Other Co"))
    create_store(other, "S1", "别家店")
    hook = webhooks.create_webhook(other, receiver.url, [], SECRET)[0]
    client = logged_in(hq)
    assert client.get(f"/webhooks/{hook.pk}/").status_code == 404
    assert client.post(f"/webhooks/{hook.pk}/test/").status_code == 404
    assert receiver.received == []


def test_the_audit_log_tells_what_was_done(hq, receiver):
    hook = webhooks.create_webhook(hq, receiver.url, ["sale.completed"], SECRET)[0]
    webhooks.set_active(hq, hook, False)
    page = text(logged_in(hq).get("/audit/"))
    assert f"添加了 Webhook {receiver.url}" in page
    assert f"将 Webhook {receiver.url} 设为启用：否" in page
    assert SECRET not in page
