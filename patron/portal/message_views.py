"""/m/messages: the campaigns inbox with unread counts, one message, opt-out per channel.

Owner: the history part. Only the logged-in member's inbox messages are listed or opened;
opening one marks it read. Opting out goes through the campaigns' `opt_out`, which records a
ConsentRecord; agreeing again is on /m/privacy."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from patron.campaigns import optout
from patron.campaigns.inbox_api import mark_read
from patron.campaigns.models import Channel
from patron.campaigns.optout import CONSENT_FIELDS, suppression_reason
from patron.members.models import Member
from patron.portal import history_selectors as selectors
from patron.portal.session import member_actor, member_page

PAGE_SIZE = 20
MARKETING_CHANNELS = (Channel.SMS, Channel.WECHAT, Channel.EMAIL)


class OptOutForm(forms.Form):
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(channel.value, channel.label) for channel in MARKETING_CHANNELS],
        error_messages={
            "required": gettext_lazy("Choose a channel to stop."),
            "invalid_choice": gettext_lazy("This channel is not one we send marketing on."),
        },
    )


@dataclass
class ChannelState:
    channel: str
    label: str
    agreed: bool  # the member's consent on record: they may withdraw it here
    receives: bool  # marketing can reach them there now
    state: str  # in words


def channel_states(member: Member) -> list[ChannelState]:
    states = []
    for channel in MARKETING_CHANNELS:
        agreed = bool(getattr(member, CONSENT_FIELDS[channel]))
        receives = suppression_reason(member, channel) is None
        if receives:
            state = _("You receive offers here.")
        elif agreed:
            state = _("You agreed, but we have no way to reach you here yet.")
        else:
            state = _("You do not receive offers here.")
        states.append(ChannelState(channel, str(channel.label), agreed, receives, state))
    return states


def render_messages(
    request: HttpRequest, form: OptOutForm | None = None, status: int = 200
) -> HttpResponse:
    member = request.member
    page = Paginator(selectors.inbox(member), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "messages",
        "page": page,
        "inbox": list(page.object_list),
        "unread": selectors.unread_total(member),
        "channels": channel_states(member),
        "form": form or OptOutForm(),
    }
    return render(request, "portal/messages.html", context, status=status)


@require_GET
@member_page
def messages(request: HttpRequest) -> HttpResponse:
    return render_messages(request)


@require_GET
@member_page
def message(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.member_message(request.member, pk)
    if found is None:
        raise Http404
    mark_read(found)
    context = {
        "merchant": request.merchant,
        "member": request.member,
        "tab": "messages",
        "inbox_message": found,
    }
    return render(request, "portal/message.html", context)


@require_POST
@member_page
def opt_out(request: HttpRequest) -> HttpResponse:
    form = OptOutForm(request.POST)
    if not form.is_valid():
        return render_messages(request, form, status=400)
    channel = Channel(form.cleaned_data["channel"])
    optout.opt_out(request.member, channel, member_actor(request.member, request))
    flash.success(
        request,
        _("You will no longer receive offers by %(channel)s.") % {"channel": channel.label},
    )
    return redirect("portal:messages")
