"""Several workers sending at once (PostgreSQL: FOR UPDATE SKIP LOCKED plus the lease): every
delivery is POSTed exactly once, and no transaction is open during a POST."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from patron.events import webhooks
from patron.events.dispatch import dispatch_pending
from patron.events.models import DeliveryAttempt, WebhookDelivery
from patron.events.services import emit
from patron.events.webhook_tasks import send_due
from tests.events.webhook_receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECRET = "s3cret-for-the-tests-only"
WORKERS = 4
EVENTS = 40


def test_concurrent_workers_send_each_delivery_once(hq, merchant, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (run with PATRON_TEST_POSTGRES)")
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
    receiver = Receiver(SECRET).start()
    open_during_post = []
    real_post = webhooks.post

    def watching_post(*args, **kwargs):
        open_during_post.append(connection.in_atomic_block)
        return real_post(*args, **kwargs)

    monkeypatch.setattr(webhooks, "post", watching_post)
    try:
        webhooks.create_webhook(hq, receiver.url, [], SECRET)
        for n in range(EVENTS):
            emit(merchant.pk, "sale.completed", {"n": n}, member_id=n)
        dispatch_pending()
        counts: list[int] = []

        def worker() -> None:
            try:
                counts.append(send_due())
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        receiver.stop()
    assert sum(counts) == EVENTS
    assert sorted(r.json["data"]["n"] for r in receiver.received) == list(range(EVENTS))
    assert DeliveryAttempt.objects.count() == EVENTS
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert open_during_post and not any(open_during_post)
