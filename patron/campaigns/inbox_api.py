"""`GET /members/{id}/messages` (API.md §9): the member's inbox, newest first.

"Inbox" is the inbox channel: the messages the member reads on their own pages (/m/messages).
What went out by SMS, email or WeChat is on the member's console page ("消息" panel) and in
the campaign reports, not here. `POST /members/{id}/opt-outs {channel}` records a
withdrawal of consent for a channel (a member who asked the shop to stop), effective at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from patron.campaigns.models import Channel, Message
from patron.campaigns.optout import opt_out, suppression_reason
from patron.core.apitypes import PathId
from patron.core.problems import Problem
from patron.members.selectors import member_for

router = Router(tags=["messages"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem}


class MessageOut(Schema):
    id: int
    channel: str
    subject: str
    body: str
    status: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    campaign: int | None


class MessagePage(Schema):
    items: list[MessageOut]
    count: int
    page: int
    page_size: int


class InboxPage(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)


class OptOutIn(Schema):
    channel: Literal["sms", "email", "wechat"]


class OptOutOut(Schema):
    channel: str
    reason: str | None


def inbox(member) -> object:
    """The member's inbox messages (sent ones: a held message is not there yet)."""
    return Message.objects.filter(
        member=member,
        channel=Channel.INBOX,
        status__in=(Message.Status.SENT, Message.Status.DELIVERED),
    ).order_by("-created_at", "-pk")


def mark_read(message: Message) -> Message:
    """The member opened the message (their pages): `read_at` is set once, the first time."""
    if message.read_at is None:
        now = timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
        message.read_at = now
    return message


@router.get(
    "members/{member_id}/messages",
    response={200: MessagePage, **ERRORS},
    summary="The member's inbox, newest first",
)
def list_messages(request: HttpRequest, member_id: PathId, filters: Query[InboxPage]):
    member = member_for(request.actor, member_id)
    messages = inbox(member)
    start = (filters.page - 1) * filters.page_size
    return {
        "items": [
            {
                "id": m.pk,
                "channel": m.channel,
                "subject": m.subject,
                "body": m.body,
                "status": m.status,
                "created_at": m.created_at,
                "read_at": m.read_at,
                "campaign": m.campaign_id,
            }
            for m in messages[start : start + filters.page_size]
        ],
        "count": messages.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post(
    "members/{member_id}/opt-outs",
    response={200: OptOutOut, **ERRORS},
    summary="Withdraw the member's marketing consent on a channel",
)
def record_opt_out(request: HttpRequest, member_id: PathId, payload: OptOutIn):
    member = member_for(request.actor, member_id)
    member = opt_out(member, payload.channel, request.actor)
    return {"channel": payload.channel, "reason": suppression_reason(member, payload.channel)}
