"""Console forms of member-only events: the event, and the door's token. They collect raw
input; `events_service` judges it and its errors land next to their inputs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patron.activities.events_service import EventInput
from patron.activities.models import MemberOnlyEvent
from patron.core.forms import ConsoleForm, ServiceErrorsMixin
from patron.promotions.models import Tier
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import active_stores

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def _moment(label: Any, required: bool) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )


class EventForm(ServiceErrorsMixin, ConsoleForm):
    code = forms.CharField(
        label=_("Code"), max_length=32, help_text=_("e.g. TEA-0612; not changed later.")
    )
    name = forms.CharField(label=_("Event name"), max_length=100)
    starts_at = _moment(_("Starts at"), True)
    ends_at = _moment(_("Ends at"), False)
    place = forms.CharField(label=_("Place"), max_length=200)
    capacity = forms.CharField(
        label=_("Capacity"),
        help_text=_("Places; members beyond them wait in line and move up when one cancels."),
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
    )
    store = forms.ChoiceField(label=_("Store"), required=False)
    tiers = forms.MultipleChoiceField(
        label=_("Tiers that may sign up"),
        required=False,
        help_text=_("None ticked: every member."),
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, actor: Actor, event: MemberOnlyEvent | None = None, **kwargs):
        self.actor, self.event = actor, event
        if event is not None:
            kwargs.setdefault("initial", _initial(event))
        super().__init__(*args, **kwargs)
        stores = active_stores(actor.merchant)
        self.fields["store"].choices = [("", "—")] + [(s.code, s.name) for s in stores]
        tiers = Tier.objects.filter(merchant=actor.merchant).order_by("rank", "code")
        self.fields["tiers"].choices = [(t.code, t.name) for t in tiers]
        if event is not None:
            self.fields["code"].disabled = True

    def form_field_for(self, service_field: str) -> str | None:
        name = service_field.split(".")[0]
        return name if name in self.fields else None

    def service_input(self) -> EventInput:
        data = self.cleaned_data
        return EventInput(
            name=data["name"],
            starts_at=data["starts_at"],
            place=data["place"],
            capacity=data["capacity"],
            ends_at=data.get("ends_at") or None,
            store=data.get("store") or None,
            tiers=list(data.get("tiers") or []),
            description=data.get("description", ""),
        )


def _initial(event: MemberOnlyEvent) -> dict[str, Any]:
    def local(moment):
        return timezone.localtime(moment).strftime(LOCAL_INPUT) if moment else ""

    return {
        "code": event.code,
        "name": event.name,
        "starts_at": local(event.starts_at),
        "ends_at": local(event.ends_at),
        "place": event.place,
        "capacity": event.capacity,
        "store": event.store.code if event.store_id else "",
        "tiers": list(event.tiers or []),
        "description": event.description,
    }


class DoorForm(ConsoleForm):
    token = forms.CharField(
        label=_("Member's event pass"),
        max_length=200,
        help_text=_("Scan the QR on the member's phone, or type the code under it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
