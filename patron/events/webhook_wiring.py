"""Registers the webhooks consumer of the outbox and the audit log's sentences for webhooks.

The consumer only writes rows (one WebhookDelivery per active webhook of the event's merchant
that wants its type; the unique constraint makes a repeated event harmless) and asks for a
send after commit: the POSTs happen in `webhook_tasks`, never inside the dispatcher.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patron.events.dispatch import add_consumer
from patron.events.models import Event, Webhook, WebhookDelivery
from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry

CONSUMER = "webhooks"


def queue_deliveries(event: Event) -> int:
    """One pending delivery per matching active webhook; the number of webhooks matched."""
    hooks = [
        hook
        for hook in Webhook.objects.filter(merchant_id=event.merchant_id, is_active=True)
        if not hook.events or event.type in hook.events
    ]
    if not hooks:
        return 0
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(webhook=hook, event=event, next_attempt_at=now, created_at=now)
            for hook in hooks
        ],
        ignore_conflicts=True,
    )
    _send_after_commit()
    return len(hooks)


def _send_after_commit() -> None:
    """One wake-up of the sender per transaction however many deliveries it queued."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _wake_sender for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_wake_sender)


def _wake_sender() -> None:
    from patron.events.webhook_tasks import send_due_webhooks  # the job module imports this

    send_due_webhooks()


def register_audit() -> None:
    audit_display.add_sentence(
        "webhook", AuditEntry.Action.CREATE, gettext_lazy("Added the webhook %(object)s")
    )
    audit_display.add_sentence(
        "webhook",
        AuditEntry.Action.UPDATE,
        gettext_lazy("Set the webhook %(object)s active: %(is_active)s"),
        when="is_active",
    )


def register() -> None:
    add_consumer(CONSUMER, queue_deliveries)
    register_audit()
