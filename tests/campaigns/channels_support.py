"""Helpers of the channels part's tests: members with consent, channel settings, messages."""

from __future__ import annotations

from typing import Any

from patron.campaigns.channel_program import save
from patron.campaigns.models import Message
from patron.members.models import Member
from patron.members.services import register_member


def member(system, mobile: str = "13800138000", **data: Any) -> Member:
    custom = data.pop("custom", None)
    found = register_member(system, {"mobile": mobile, "name": "张三", "store": "S1", **data})
    if custom:
        Member.objects.filter(pk=found.pk).update(custom=custom)
        found.refresh_from_db()
    return found


def configure(merchant, **sections: dict[str, Any]) -> None:
    save(merchant, sections)


def queued(member: Member, channel: str, body: str = "您好", **fields: Any) -> Message:
    return Message.objects.create(
        merchant=member.merchant, member=member, channel=channel, body=body, **fields
    )
