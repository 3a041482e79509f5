"""Webhooks: a merchant's subscriptions (create, disable / enable, test), the signed body they
receive and the checks that keep them pointed at the outside world (API.md §9, docs/webhooks.md).

Services write and audit; the sender (`webhook_tasks`) and the API and console read through the
selectors at the bottom.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from patron.events.models import DeliveryAttempt, Event, Webhook
from patron.events.types import EVENT_TYPES
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.services import audit

SIGNATURE_HEADER = "Patron-Signature"
ALLOW_PRIVATE_ENV = "PATRON_WEBHOOK_ALLOW_PRIVATE"
URL_MAX = 500
SECRET_MIN = 1  # API.md §9 sets no length; docs/webhooks.md advises 32 random characters
SECRET_MAX = 200
# Short, so a slow receiver cannot hold a worker: it gets retried instead.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
PING = "ping"  # the type of the synthetic event a test sends
ANSWER_EXCERPT = 300


class WebhookUrlRefused(DomainError):
    """A URL that is well formed but may not be called (SSRF guard)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail=detail,
            code="webhook_url_not_allowed",
            status=422,
            errors=[FieldError("url", detail)],
        )


# --- checks ----------------------------------------------------------------------------------


def allow_private() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "") == "1"


def clean_url(url: Any) -> str:
    """The URL if it is http(s) with a host; else 422 `invalid_webhook_url`."""
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text) if text else None
    try:
        port_ok = parts is not None and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number or out of range
        port_ok = False
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or len(text) > URL_MAX
        or any(ch.isspace() for ch in text)
    ):
        detail = _("The webhook URL must be an http:// or https:// address with a host.")
        errors = [FieldError("url", detail)]
        raise DomainError(detail=detail, code="invalid_webhook_url", status=422, errors=errors)
    return text


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_destination(url: str) -> None:
    """Refuse (422 `webhook_url_not_allowed`) a host that resolves to a loopback, private or
    link-local address, unless PATRON_WEBHOOK_ALLOW_PRIVATE=1. Every address the name resolves
    to is checked, so a name with one public and one private address is refused too."""
    if allow_private():
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        detail = _("The host %(host)s could not be resolved.") % {"host": host}
        raise WebhookUrlRefused(detail) from None
    if any(refused_address(str(info[4][0])) for info in infos):
        raise WebhookUrlRefused(
            _("The host %(host)s is a loopback, private or link-local address.") % {"host": host}
        )


def clean_events(events: Any) -> list[str]:
    """Known event types, each once, in the order of API.md §9; [] (or None) means all."""
    if events is None:
        return []
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationFailed([FieldError("events", _("Give a list of event types."))])
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            [FieldError("events", _("Unknown event types: %s") % ", ".join(unknown))]
        )
    return [t for t in EVENT_TYPES if t in events]


def clean_secret(secret: Any) -> tuple[str, bool]:
    """The secret and whether it was generated here (to be shown once)."""
    if secret is None or (isinstance(secret, str) and not secret.strip()):
        return "whsec_" + secrets.token_urlsafe(32), True
    if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise ValidationFailed(
            [
                FieldError(
                    "secret",
                    _("The secret must be %(min)d to %(max)d characters long.")
                    % {"min": SECRET_MIN, "max": SECRET_MAX},
                )
            ]
        )
    return secret, False


# --- the body and its signature --------------------------------------------------------------


def body_for(
    uid: uuid.UUID | str,
    event_type: str,
    created_at: dt.datetime,
    data: Mapping[str, Any],
    zone: str,
) -> bytes:
    """The exact bytes POSTed (and signed): `{id, type, created_at, data}`, the time in the
    merchant's offset."""
    payload = {
        "id": str(uid),
        "type": event_type,
        "created_at": created_at.astimezone(merchant_zone(zone)).isoformat(),
        "data": data,
    }
    text = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def event_body(event: Event) -> bytes:
    return body_for(event.uid, event.type, event.created_at, event.data, event.merchant.timezone)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (API.md §9)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Answer:
    """What one POST got: the status (None when nothing answered), time taken, an error."""

    status_code: int | None
    duration_ms: int
    error: str = ""
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, secret: str, body: bytes, *, now: dt.datetime | None = None) -> Answer:
    """Sign and POST the body once; never raises for what the network or receiver does."""
    started = time.monotonic()
    try:
        check_destination(url)  # again at send time: the name may resolve elsewhere now
        timestamp = int((now or timezone.now()).timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, body, timestamp),
            "User-Agent": "Patron-Webhooks/1",
        }
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except WebhookUrlRefused as refused:
        return Answer(None, _elapsed(started), str(refused.detail)[:300])
    except httpx.HTTPError as exc:
        return Answer(None, _elapsed(started), f"{type(exc).__name__}: {exc}"[:300])
    return Answer(response.status_code, _elapsed(started), "", response.text[:ANSWER_EXCERPT])


def _elapsed(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


# --- services --------------------------------------------------------------------------------


def create_webhook(
    actor: Actor, url: Any, events: Any = None, secret: Any = None
) -> tuple[Webhook, str]:
    """A new active webhook and its secret (generated when none was given: shown only now)."""
    url = clean_url(url)
    kinds = clean_events(events)
    secret, _generated = clean_secret(secret)
    check_destination(url)  # a DNS lookup: before the transaction, not inside it
    with transaction.atomic():
        webhook = Webhook.objects.create(
            merchant=actor.merchant, url=url, events=kinds, secret=secret
        )
        changes = {"url": [None, url], "events": [None, kinds]}
        audit(actor, AuditEntry.Action.CREATE, webhook, changes)
    return webhook, secret


@transaction.atomic
def set_active(actor: Actor, webhook: Webhook, active: bool) -> Webhook:
    """Disable (nothing more is queued for it; what is queued is kept) or enable again."""
    if webhook.is_active == active:
        return webhook
    Webhook.objects.filter(pk=webhook.pk).update(is_active=active)
    audit(actor, AuditEntry.Action.UPDATE, webhook, {"is_active": [webhook.is_active, active]})
    webhook.is_active = active
    return webhook


def send_test(actor: Actor, webhook: Webhook, now: dt.datetime | None = None) -> Answer:
    """POST a synthetic `ping` event now and return the answer (nothing is queued or retried)."""
    now = now or timezone.now()
    body = body_for(
        uuid.uuid4(),
        PING,
        now,
        {"webhook": webhook.pk, "test": True},
        actor.merchant.timezone,
    )
    return post(webhook.url, webhook.secret, body, now=now)


# --- selectors -------------------------------------------------------------------------------


def webhooks_for(actor: Actor) -> QuerySet[Webhook]:
    return Webhook.objects.filter(merchant=actor.merchant).order_by("pk")


def webhook_for(actor: Actor, webhook_id: Any) -> Webhook:
    webhook = webhooks_for(actor).filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound(_("Webhook not found"))
    return webhook


def attempts_of(webhook: Webhook, limit: int = 100) -> QuerySet[DeliveryAttempt]:
    """The webhook's POSTs, newest first, with their events."""
    return (
        DeliveryAttempt.objects.filter(delivery__webhook=webhook)
        .select_related("delivery__event")
        .order_by("-at", "-pk")[:limit]
    )


def last_attempts(webhooks: Iterable[Webhook]) -> dict[int, DeliveryAttempt]:
    """Each webhook's latest POST, for the list."""
    found: dict[int, DeliveryAttempt] = {}
    for webhook in webhooks:
        attempt = attempts_of(webhook, 1).first()
        if attempt is not None:
            found[webhook.pk] = attempt
    return found
