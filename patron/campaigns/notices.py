"""Service notices: one message to one member outside any campaign (an activity telling a
member their waitlisted place is confirmed, or reminding them of an event tomorrow).

The inbox always gets it (a row of ours, delivered in the caller's transaction); SMS too when
the merchant has an SMS channel and the member may be sent on it (consent, not opted out), by
the sending job after commit, as campaign messages are. The caller keeps its own marker of
what was sent, so a retry does not send twice."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from patron.campaigns import channels
from patron.campaigns.models import Channel, Message
from patron.campaigns.templating import member_language
from patron.members.models import Member


def notify(
    member: Member, *, subject: str, body: str, now: dt.datetime | None = None
) -> list[Message]:
    """Queue `subject`/`body` (already in the member's language) to `member`: the inbox, and
    SMS when allowed. Returns the messages written."""
    now = now or timezone.now()
    on = [Channel.INBOX.value]
    sms_allowed = channels.suppression_reason(member, Channel.SMS) is None
    if sms_allowed and Channel.SMS in channels.available(member.merchant_id):
        on.append(Channel.SMS.value)
    messages = [
        Message.objects.create(
            merchant_id=member.merchant_id,
            member=member,
            channel=channel,
            language=member_language(member),
            subject=subject[:200],
            body=body,
            created_at=now,
        )
        for channel in on
    ]
    channels.send([m for m in messages if m.channel == Channel.INBOX])
    outgoing = [m.pk for m in messages if m.channel != Channel.INBOX]
    if outgoing:
        from patron.campaigns import send_tasks

        transaction.on_commit(lambda: send_tasks.wake_sender(outgoing))
    return messages
