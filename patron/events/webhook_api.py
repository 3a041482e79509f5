"""`/webhooks` (API.md §9): subscribe a URL to events, list, disable / enable, test, and read
the delivery log. An API key sees its merchant's webhooks only (others answer 404)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Router, Schema, Status

from patron.core.apitypes import PathId
from patron.core.problems import Problem
from patron.events import webhooks
from patron.events.models import Webhook
from patron.events.types import EVENT_TYPES

router = Router(tags=["webhooks"])
ERRORS = {401: Problem, 404: Problem, 422: Problem}
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]  # the tuple of API.md §9


class WebhookIn(Schema):
    url: str = NinjaField(
        ...,
        min_length=1,
        max_length=webhooks.URL_MAX,
        description=(
            "http:// or https://; a host resolving to a loopback, private or link-local address"
            " is refused (422 webhook_url_not_allowed) unless PATRON_WEBHOOK_ALLOW_PRIVATE=1"
        ),
    )
    events: list[EventType] | None = NinjaField(
        None, description="Event types to receive; empty or missing: every type"
    )
    secret: str | None = NinjaField(
        None,
        min_length=webhooks.SECRET_MIN,
        max_length=webhooks.SECRET_MAX,
        description="Signs each delivery; missing: one is generated and returned once",
    )


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str] = NinjaField(..., description="Empty: every type")
    is_active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = NinjaField(..., description="Shown in this answer only")


class TestAnswer(Schema):
    ok: bool
    status_code: int | None = NinjaField(..., description="None when nothing answered")
    duration_ms: int
    error: str
    body: str = NinjaField(..., description="The start of what the receiver answered")


class DeliveryOut(Schema):
    event_id: uuid.UUID
    type: str
    attempt: int
    status_code: int | None
    duration_ms: int
    error: str
    at: dt.datetime


class DeliveriesOut(Schema):
    items: list[DeliveryOut]


def present(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.pk,
        "url": webhook.url,
        "events": webhook.events,
        "is_active": webhook.is_active,
        "created_at": webhook.created_at,
    }


@router.post("/webhooks", response={201: WebhookCreated, **ERRORS}, summary="Add a webhook")
def create_webhook(request: HttpRequest, payload: WebhookIn):
    webhook, secret = webhooks.create_webhook(
        request.actor, payload.url, payload.events, payload.secret
    )
    return Status(201, {**present(webhook), "secret": secret})


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS}, summary="The webhooks")
def list_webhooks(request: HttpRequest):
    return [present(w) for w in webhooks.webhooks_for(request.actor)]


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS}, summary="A webhook")
def get_webhook(request: HttpRequest, webhook_id: PathId):
    return present(webhooks.webhook_for(request.actor, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **ERRORS},
    summary="Disable a webhook (kept, with its log)",
)
def delete_webhook(request: HttpRequest, webhook_id: PathId):
    webhooks.set_active(request.actor, webhooks.webhook_for(request.actor, webhook_id), False)
    return Status(204, None)


@router.post(
    "/webhooks/{webhook_id}/disable", response={200: WebhookOut, **ERRORS}, summary="Disable"
)
def disable_webhook(request: HttpRequest, webhook_id: PathId):
    webhook = webhooks.webhook_for(request.actor, webhook_id)
    return present(webhooks.set_active(request.actor, webhook, False))


@router.post(
    "/webhooks/{webhook_id}/enable", response={200: WebhookOut, **ERRORS}, summary="Enable"
)
def enable_webhook(request: HttpRequest, webhook_id: PathId):
    webhook = webhooks.webhook_for(request.actor, webhook_id)
    return present(webhooks.set_active(request.actor, webhook, True))


@router.post(
    "/webhooks/{webhook_id}/test",
    response={200: TestAnswer, **ERRORS},
    summary="Send a signed `ping` event now and return the answer",
)
def test_webhook(request: HttpRequest, webhook_id: PathId):
    answer = webhooks.send_test(request.actor, webhooks.webhook_for(request.actor, webhook_id))
    return {
        "ok": answer.ok,
        "status_code": answer.status_code,
        "duration_ms": answer.duration_ms,
        "error": answer.error,
        "body": answer.text,
    }


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: DeliveriesOut, **ERRORS},
    summary="The delivery log, newest first (last 100 attempts)",
)
def webhook_deliveries(request: HttpRequest, webhook_id: PathId):
    webhook = webhooks.webhook_for(request.actor, webhook_id)
    items = [
        {
            "event_id": a.delivery.event.uid,
            "type": a.delivery.event.type,
            "attempt": a.attempt,
            "status_code": a.status_code,
            "duration_ms": a.duration_ms,
            "error": a.error,
            "at": a.at,
        }
        for a in webhooks.attempts_of(webhook)
    ]
    return {"items": items}
