"""Webhook deliveries end to end: an event dispatched by the outbox is POSTed, signed, to a
receiver that checks the signature from API.md §9 alone; retries with growing backoff, giving
up after a day, order per member, disabled and unsubscribed webhooks, the SSRF guard."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from patron.core.errors import DomainError
from patron.events import webhooks
from patron.events.dispatch import dispatch_pending
from patron.events.models import DeliveryAttempt, WebhookDelivery
from patron.events.services import emit
from patron.events.webhook_tasks import send_due
from patron.events.webhook_wiring import queue_deliveries
from patron.tenancy.models import AuditEntry
from tests.events.webhook_receiver import Receiver, verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SECRET = "s3cret-for-the-tests-only"
T0 = dt.datetime(2027, 3, 2, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def allow_private(monkeypatch):
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")


@pytest.fixture
def receiver(allow_private):
    receiver = Receiver(SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hook(hq, receiver):
    return webhooks.create_webhook(hq, receiver.url, [], SECRET)[0]


def sale(merchant, member_id: int = 7, total: int = 12800):
    event = emit(merchant.pk, "sale.completed", {"sale": 1, "total": total}, member_id=member_id)
    dispatch_pending()
    return event


def delivery_of(event) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event=event)


def test_signed_post_verified_by_a_receiver_written_from_the_doc(merchant, hook, receiver):
    event = sale(merchant)
    assert send_due(now=T0) == 1
    [got] = receiver.received
    assert got.signature_ok
    assert got.headers["Content-Type"] == "application/json"
    assert got.json == {
        "id": str(event.uid),
        "type": "sale.completed",
        "created_at": event.created_at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
        "data": {"sale": 1, "total": 12800},
    }
    assert got.json["created_at"].endswith("+08:00")  # the merchant's zone, Asia/Shanghai
    t = got.headers["Patron-Signature"].split(",")[0]
    assert t == f"t={int(T0.timestamp())}"
    delivery = delivery_of(event)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.attempt, attempt.status_code, attempt.error) == (1, 200, "")


def test_the_receiver_refuses_a_wrong_signature(merchant, hq, receiver):
    # Sanity of the doc-only receiver: another secret or a changed body does not verify.
    body = webhooks.body_for("abc", "sale.completed", T0, {"total": 1}, "Asia/Shanghai")
    header = webhooks.signature(SECRET, body, 1700000000)
    assert verify(SECRET, header, body)
    assert not verify(SECRET, header, body.replace(b"1}", b"2}"))
    assert not verify("another-secret-entirely", header, body)
    webhooks.create_webhook(hq, receiver.url, [], "another-secret-entirely")
    event = sale(merchant)
    send_due(now=T0)
    assert [r.signature_ok for r in receiver.received] == [False]
    assert delivery_of(event).status == WebhookDelivery.Status.PENDING
    assert DeliveryAttempt.objects.get().status_code == 401


def test_retries_with_growing_backoff_until_a_2xx(merchant, hook, receiver):
    receiver.statuses = [500, 500, 200]
    event = sale(merchant)
    delivery = delivery_of(event)
    waits = []
    now = T0
    for _ in range(3):
        assert send_due(now=now) == 1
        assert send_due(now=now) == 0  # nothing is due again at once
        delivery.refresh_from_db()
        if delivery.status == WebhookDelivery.Status.PENDING:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert [r.signature_ok for r in receiver.received] == [True, True, True]
    assert len({r.json["id"] for r in receiver.received}) == 1  # the same event each time
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("attempt"))
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert dt.timedelta(minutes=1) <= waits[0] <= dt.timedelta(minutes=1.2)
    assert dt.timedelta(minutes=2) <= waits[1] <= dt.timedelta(minutes=2.4)
    assert waits[1] > waits[0]


def test_gives_up_a_day_after_the_first_attempt(merchant, hook, receiver):
    receiver.statuses = [503]
    event = sale(merchant)
    delivery = delivery_of(event)
    now = T0
    for _ in range(100):
        send_due(now=now)
        delivery.refresh_from_db()
        if delivery.status != WebhookDelivery.Status.PENDING:
            break
        assert delivery.next_attempt_at - now <= dt.timedelta(hours=1.2)  # capped near 1 h
        now = delivery.next_attempt_at
    assert delivery.status == WebhookDelivery.Status.FAILED
    attempts = DeliveryAttempt.objects.filter(delivery=delivery).order_by("at")
    assert attempts.first().at == T0
    assert attempts.last().at == T0 + dt.timedelta(hours=24)  # the last try, not skipped
    assert 25 < attempts.count() < 40  # backoff, not a tight loop
    assert send_due(now=now + dt.timedelta(days=2)) == 0


def test_no_answer_is_logged_and_retried(merchant, hq, allow_private):
    webhooks.create_webhook(hq, "http://127.0.0.1:9/nothing-listens", [], SECRET)
    event = sale(merchant)
    send_due(now=T0)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None
    assert "ConnectError" in attempt.error
    assert delivery_of(event).status == WebhookDelivery.Status.PENDING


def test_a_member_s_events_go_in_order(merchant, hook, receiver):
    receiver.statuses = [500, 200]
    first = sale(merchant, member_id=7, total=100)
    second = sale(merchant, member_id=7, total=200)
    other = sale(merchant, member_id=8, total=300)
    send_due(now=T0)
    # The second waits for the first (pending retry); another member's event does not.
    assert [r.json["data"]["total"] for r in receiver.received] == [100, 300]
    send_due(now=T0 + dt.timedelta(hours=1))
    assert [r.json["data"]["total"] for r in receiver.received] == [100, 300, 100, 200]
    for event in (first, second, other):
        assert delivery_of(event).status == WebhookDelivery.Status.DELIVERED


def test_disabled_and_unsubscribed_webhooks_get_nothing(merchant, hq, hook, receiver):
    joined_only = webhooks.create_webhook(hq, receiver.url, ["member.joined"], SECRET)[0]
    webhooks.set_active(hq, hook, False)
    sale(merchant)
    assert not WebhookDelivery.objects.exists()
    assert send_due(now=T0) == 0
    assert receiver.received == []
    joined = emit(merchant.pk, "member.joined", {"member": 7}, member_id=7)
    dispatch_pending()
    assert delivery_of(joined).webhook == joined_only
    webhooks.set_active(hq, hook, True)
    changes = AuditEntry.objects.filter(object_type="webhook", action=AuditEntry.Action.UPDATE)
    assert [e.changes for e in changes.order_by("pk")] == [
        {"is_active": [True, False]},
        {"is_active": [False, True]},
    ]


def test_the_consumer_is_idempotent(merchant, hook):
    event = sale(merchant)
    queue_deliveries(event)  # the dispatcher ran it once; a repeat adds nothing
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_another_merchant_s_events_are_not_sent(hook, receiver, db):
    from patron.tenancy.services import create_merchant

    other = create_merchant("other", "Other Co")
    sale(other)
    assert not WebhookDelivery.objects.exists()


def test_test_sends_a_signed_ping(hq, hook, receiver):
    answer = webhooks.send_test(hq, hook, now=T0)
    assert answer.ok and answer.status_code == 200
    [got] = receiver.received
    assert got.signature_ok
    assert got.json["type"] == "ping"
    assert got.json["data"] == {"webhook": hook.pk, "test": True}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "https://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused(hq, url, monkeypatch):
    monkeypatch.delenv(webhooks.ALLOW_PRIVATE_ENV, raising=False)
    with pytest.raises(DomainError) as refused:
        webhooks.create_webhook(hq, url, [], SECRET)
    assert refused.value.code == "webhook_url_not_allowed"
    assert refused.value.status == 422


def test_a_private_address_is_refused_at_send_time_too(merchant, hook, receiver, monkeypatch):
    sale(merchant)
    monkeypatch.delenv(webhooks.ALLOW_PRIVATE_ENV)
    send_due(now=T0)
    assert receiver.received == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "127.0.0.1" in attempt.error


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/hook", "http://", "javascript:alert(1)", ""]
)
def test_bad_urls_are_refused(hq, url):
    with pytest.raises(DomainError) as refused:
        webhooks.create_webhook(hq, url, [], SECRET)
    assert refused.value.code == "invalid_webhook_url"
    assert refused.value.status == 422


def test_events_are_checked_and_a_secret_is_generated(hq, allow_private):
    with pytest.raises(DomainError) as refused:
        webhooks.create_webhook(hq, "https://example.com/h", ["sale.completed", "sale.eaten"])
    assert refused.value.code == "validation_error"
    assert "sale.eaten" in str(refused.value)
    hook, secret = webhooks.create_webhook(hq, "https://example.com/h", ["tier.changed"])
    assert secret.startswith("whsec_") and len(secret) > 30 and hook.secret == secret
    entry = AuditEntry.objects.get(object_type="webhook", action=AuditEntry.Action.CREATE)
    assert entry.changes["url"] == [None, "https://example.com/h"]
    assert secret not in json.dumps(entry.changes)  # the secret is never audited
