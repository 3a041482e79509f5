"""The "消息" panel of the member's console page: the latest messages on every channel, with
their status, so staff can see what the member was told and whether it arrived."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from patron.campaigns.models import Message
from patron.members import profile
from patron.members.models import Member
from patron.tenancy.permissions import merchant_zone

PANEL_MESSAGES = 10


def messages_panel(request: HttpRequest, member: Member) -> SafeString:
    rows = list(
        Message.objects.filter(member=member)
        .select_related("campaign")
        .order_by("-created_at", "-pk")[:PANEL_MESSAGES]
    )
    with timezone.override(merchant_zone(member.merchant.timezone)):
        return render_to_string(
            "campaigns/_member_messages.html", {"messages": rows}, request=request
        )


def register() -> None:
    profile.add_panel(profile.Panel("side", messages_panel, order=60))
