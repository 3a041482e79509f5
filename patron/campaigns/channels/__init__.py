"""Channels (F-37): inbox, SMS (Aliyun, Tencent Cloud, plain HTTP), email (SMTP), WeChat.

What the other campaign parts call:

- `available(merchant) -> list[str]`: the channels configured in the program's `channels`
  section, inbox always first.
- `suppression_reason(member, channel) -> str | None`: "consent" (never granted),
  "opted_out" (granted then withdrawn) or None when the member may be sent on it. Inbox: None.
- `send(messages) -> None`: send QUEUED messages through their channel's adapter (network
  calls: call it OUTSIDE any transaction), set status SENT / FAILED, provider, provider_id,
  sent_at (bulk_update) and emit `message.sent` for each sent one in the same transaction.
  Consent is read again just before sending, so an opt-out that came in after the message was
  queued still stops it (status FAILED, error "opted_out" or "consent").

Adapters (channels/<name>.py) are chosen per merchant from the section: sms.provider
aliyun | tencent | http, email, wechat; the inbox needs no settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from patron.campaigns.channel_program import stored
from patron.campaigns.channels.base import Adapter, Outgoing, Result
from patron.campaigns.models import Channel, Message
from patron.campaigns.optout import suppressed_ids, wechat_openid
from patron.campaigns.optout import suppression_reason as _suppression_reason
from patron.core import rawsql
from patron.events.models import Event
from patron.events.services import emit
from patron.events.types import MESSAGE_SENT
from patron.members.models import Member
from patron.tenancy.models import Merchant

suppression_reason = _suppression_reason
SQL_BATCH = 500


def available(merchant: Merchant | int) -> list[str]:
    """The channels the merchant can send on: inbox, then those its program configures."""
    config = stored(merchant)
    return [Channel.INBOX.value] + [
        channel for channel in (Channel.SMS, Channel.EMAIL, Channel.WECHAT) if channel in config
    ]


def adapter(channel: str, config: dict[str, Any]) -> Adapter | None:
    """The adapter of `channel` with the merchant's settings, or None if it has none."""
    if channel == Channel.INBOX:
        from patron.campaigns.channels.inbox import Inbox

        return Inbox()
    section = config.get(channel)
    if not section:
        return None
    if channel == Channel.SMS:
        provider = section.get("provider")
        if provider == "aliyun":
            from patron.campaigns.channels.aliyun import AliyunSms

            return AliyunSms(section)
        if provider == "tencent":
            from patron.campaigns.channels.tencent import TencentSms

            return TencentSms(section)
        from patron.campaigns.channels.http import HttpSms

        return HttpSms(section)
    if channel == Channel.EMAIL:
        from patron.campaigns.channels.email import Email

        return Email(section)
    from patron.campaigns.channels.wechat import Wechat

    return Wechat(section)


def address(member: Member, channel: str) -> str:
    if channel == Channel.SMS:
        return member.mobile
    if channel == Channel.EMAIL:
        return member.email
    if channel == Channel.WECHAT:
        return wechat_openid(member)
    return ""


def send(messages: Sequence[Message]) -> None:
    """Send the QUEUED ones of `messages`, per merchant and channel (see the module doc)."""
    groups: dict[tuple[int, str], list[Message]] = defaultdict(list)
    for message in messages:
        if message.status == Message.Status.QUEUED:
            groups[(message.merchant_id, message.channel)].append(message)
    configs: dict[int, dict[str, Any]] = {}
    for (merchant_id, channel), group in groups.items():
        if merchant_id not in configs:
            configs[merchant_id] = stored(merchant_id)
        _send_group(channel, group, configs[merchant_id])


def _send_group(channel: str, group: list[Message], config: dict[str, Any]) -> None:
    # Only what is still queued (another worker, or an opt-out, may have got there first).
    queued = set(
        Message.objects.filter(
            pk__in=[m.pk for m in group], status=Message.Status.QUEUED
        ).values_list("pk", flat=True)
    )
    group = [m for m in group if m.pk in queued]
    if not group:
        return
    results: dict[int, Result] = {}
    sender = adapter(channel, config)
    outgoing: list[Outgoing] = []
    if channel != Channel.INBOX:
        blocked = suppressed_ids(list({m.member_id for m in group}), channel)
        members = Member.objects.in_bulk({m.member_id for m in group})
        for message in group:
            if message.member_id in blocked:
                results[message.pk] = Result(message.pk, error=blocked[message.member_id])
            elif sender is None:
                results[message.pk] = Result(message.pk, error="not_configured")
            else:
                outgoing.append(_outgoing(message, address(members[message.member_id], channel)))
    else:
        outgoing = [_outgoing(message, "") for message in group]
    if outgoing and sender is not None:
        for result in sender.send(outgoing):
            results[result.message_id] = result
    _record(group, results, getattr(sender, "name", ""))


def _outgoing(message: Message, to: str) -> Outgoing:
    return Outgoing(
        message_id=message.pk,
        address=to,
        body=message.body,
        subject=message.subject,
        language=message.language,
        template=message.provider_template,
        params=message.params or {},
    )


def _record(group: list[Message], results: dict[int, Result], provider: str) -> None:
    """Write the results: one UPDATE per outcome (the sent ones with their provider ids in one
    statement), and the message.sent events in the same transaction."""
    now = timezone.now()
    sent = [(m, results[m.pk]) for m in group if results[m.pk].ok]
    failed: dict[str, list[int]] = defaultdict(list)
    for message in group:
        if not results[message.pk].ok:
            failed[results[message.pk].error[:300]].append(message.pk)
    provider = provider if group[0].channel != Channel.INBOX else ""
    with transaction.atomic():
        for error, ids in failed.items():
            Message.objects.filter(pk__in=ids).update(
                status=Message.Status.FAILED, error=error, provider=provider
            )
        for part in range(0, len(sent), SQL_BATCH):
            _mark_sent(
                [(m.pk, r.provider_id) for m, r in sent[part : part + SQL_BATCH]], provider, now
            )
        _emit_sent([m for m, _r in sent], provider, now)
    for message, result in sent:
        message.status, message.sent_at = Message.Status.SENT, now
        message.provider, message.provider_id, message.error = provider, result.provider_id, ""
    for message in group:
        if not results[message.pk].ok:
            message.status, message.error = Message.Status.FAILED, results[message.pk].error[:300]


def _mark_sent(rows: list[tuple[int, str]], provider: str, now) -> None:
    # UPDATE ... FROM (VALUES ...): one statement for a batch with a provider id per row
    # (bulk_update's CASE WHEN costs seconds per thousand rows). VALUES columns are named
    # column1, column2 on both PostgreSQL and SQLite.
    table = rawsql.table(Message)
    values = ", ".join(["(%s, %s)"] * len(rows))
    rawsql.execute(
        f"UPDATE {table} SET status = %s, sent_at = %s, provider = %s, error = '', "
        f"provider_id = v.column2 FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
        [Message.Status.SENT, rawsql.db_datetime(now), provider, *(x for row in rows for x in row)],
    )


def _emit_sent(messages: list[Message], provider: str, now) -> None:
    """`message.sent` for each: the first through emit (which checks the type and wakes the
    dispatcher after commit, once per transaction), the others in one INSERT of the same rows."""
    if not messages:
        return
    rows = [
        Event(
            merchant_id=m.merchant_id,
            type=MESSAGE_SENT,
            member_id=m.member_id,
            data={
                "message": m.pk,
                "channel": m.channel,
                "campaign": m.campaign_id,
                "provider": provider,
            },
            created_at=now,
        )
        for m in messages
    ]
    first = rows[0]
    emit(first.merchant_id, MESSAGE_SENT, first.data, member_id=first.member_id, at=now)
    Event.objects.bulk_create(rows[1:], batch_size=SQL_BATCH)
