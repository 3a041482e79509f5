"""`/api/v1/webhooks` (API.md §9): create (201, secret given or generated), bad URL and private
addresses as problem+json 422, list / get / disable per merchant, test, the delivery log."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.events import webhooks
from patron.events.dispatch import dispatch_pending
from patron.events.models import Webhook, WebhookDelivery
from patron.events.services import emit
from patron.events.webhook_tasks import send_due
from tests.events.webhook_receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SECRET = "s3cret-for-the-tests-only"
T0 = dt.datetime(2027, 3, 2, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


def create(api, **body):
    return api.post("/api/v1/webhooks", body, content_type="application/json")


def test_create_list_get_and_disable(api, other_api, receiver):
    response = create(api, url=receiver.url, events=["sale.completed"], secret=SECRET)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "events", "is_active", "created_at", "secret"}
    assert body["events"] == ["sale.completed"] and body["is_active"] is True
    assert body["secret"] == SECRET and body["created_at"].endswith("+08:00")
    hook_id = body["id"]
    listed = api.get("/api/v1/webhooks").json()
    assert [h["id"] for h in listed] == [hook_id] and "secret" not in listed[0]
    assert api.get(f"/api/v1/webhooks/{hook_id}").json()["url"] == receiver.url
    assert other_api.get(f"/api/v1/webhooks/{hook_id}").status_code == 404
    assert other_api.get("/api/v1/webhooks").json() == []
    disabled = api.post(f"/api/v1/webhooks/{hook_id}/disable")
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert api.post(f"/api/v1/webhooks/{hook_id}/enable").json()["is_active"] is True
    assert api.delete(f"/api/v1/webhooks/{hook_id}").status_code == 204
    assert Webhook.objects.get(pk=hook_id).is_active is False


def test_a_secret_is_generated_when_none_is_given(api, receiver):
    body = create(api, url=receiver.url).json()
    assert body["events"] == [] and body["secret"].startswith("whsec_")
    assert Webhook.objects.get(pk=body["id"]).secret == body["secret"]


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://"])
def test_bad_url_is_a_422_with_its_code(api, url):
    response = create(api, url=url, secret=SECRET)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_webhook_url"
    assert not Webhook.objects.exists()


def test_private_address_is_refused(api, monkeypatch):
    monkeypatch.delenv(webhooks.ALLOW_PRIVATE_ENV, raising=False)
    response = create(api, url="http://127.0.0.1:8080/hook", secret=SECRET)
    assert response.status_code == 422
    assert response.json()["code"] == "webhook_url_not_allowed"
    assert not Webhook.objects.exists()


def test_unknown_event_and_overlong_secret_are_422(api, receiver):
    assert create(api, url=receiver.url, events=["sale.eaten"]).status_code == 422
    assert create(api, url=receiver.url, secret="x" * 201).status_code == 422
    assert not Webhook.objects.exists()


def test_test_and_deliveries_newest_first(api, merchant, receiver):
    hook_id = create(api, url=receiver.url, secret=SECRET).json()["id"]
    tested = api.post(f"/api/v1/webhooks/{hook_id}/test").json()
    assert tested["ok"] is True and tested["status_code"] == 200
    assert receiver.received[-1].json["type"] == "ping" and receiver.received[-1].signature_ok
    receiver.statuses = [200, 200, 500, 200]  # ping, first, second, second again
    first = emit(merchant.pk, "member.joined", {"member": 1}, member_id=1)
    second = emit(merchant.pk, "sale.completed", {"total": 5}, member_id=2)
    dispatch_pending()
    send_due(now=T0)
    send_due(now=T0 + dt.timedelta(minutes=5))
    items = api.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["items"]
    assert [(i["event_id"], i["attempt"], i["status_code"]) for i in items] == [
        (str(second.uid), 2, 200),
        (str(second.uid), 1, 500),
        (str(first.uid), 1, 200),
    ]
    assert all(i["at"].endswith("+08:00") and i["duration_ms"] >= 0 for i in items)
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2
    assert api.get("/api/v1/webhooks/999999/deliveries").status_code == 404
