"""The campaign editor's form: the API.md §9 body as inputs people fill in, and back.

The form only shapes the body (`spec()`); `services.validate_spec` decides what is allowed and
its field paths ("schedule.cron", "actions[1].template") are shown next to the inputs here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.campaigns.models import Campaign, Purpose
from patron.campaigns.templating import VARIABLES
from patron.core.errors import DomainError
from patron.core.forms import ConsoleForm, ServiceErrorsMixin, WholeNumberField, YuanField
from patron.core.money import yuan_plain
from patron.events.types import LABELS, MESSAGE_SENT
from patron.insight.models import Lifecycle
from patron.tenancy.models import Role

BIRTHDAY = "birthday"
COMPLAINT = "complaint"  # insight's complaints: the journeys part scans them (docs/journeys.md)
# The action slots of the editor, in the order their actions are sent to the service.
SLOTS = ("message", "coupon", "points", "tier", "task")
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
INNER_PATH = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: ")


def trigger_choices() -> list[tuple[str, Any]]:
    """Every event a journey may start on, by its name: the outbox's events and birthdays."""
    return [
        ("", _("— choose an event —")),
        (BIRTHDAY, pgettext_lazy("event", "Birthday")),
        (COMPLAINT, pgettext_lazy("event", "Complaint recorded")),
        *((code, label) for code, label in LABELS.items() if code != MESSAGE_SENT),
    ]


class AudienceMode:
    ALL = "all"
    SEGMENT = "segment"
    FILTER = "filter"


class ScheduleMode:
    NOW = "now"
    AT = "at"
    CRON = "cron"


class CampaignForm(ServiceErrorsMixin, ConsoleForm):
    name = forms.CharField(label=_("Campaign name"), max_length=100)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=Campaign.Kind.choices)

    audience_mode = forms.ChoiceField(
        label=_("Audience"),
        choices=[
            (AudienceMode.SEGMENT, _("A saved segment")),
            (AudienceMode.FILTER, _("A filter (insight filter language)")),
            (AudienceMode.ALL, _("Everyone the trigger applies to")),
        ],
        initial=AudienceMode.SEGMENT,
        widget=forms.RadioSelect,
    )
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, required=False)
    filter = forms.CharField(
        label=_("Filter"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
        help_text=_('JSON, e.g. {"all": [{"field": "lifecycle", "op": "eq", "value": "dormant"}]}'),
    )

    trigger_event = forms.ChoiceField(label=_("Starts when"), required=False)
    birthday_calendar = forms.ChoiceField(
        label=_("Calendar"),
        required=False,
        choices=[
            ("member", _("The member's choice (lunar if they set one)")),
            ("solar", _("Solar")),
            ("lunar", _("Lunar")),
        ],
    )
    birthday_when = forms.ChoiceField(
        label=_("When"),
        required=False,
        choices=[("day", _("On the day")), ("month", _("In the birthday month"))],
    )
    days_before = WholeNumberField(label=_("Days before"), required=False, min_value=0)
    lifecycle_to = forms.ChoiceField(
        label=_("Into the stage"),
        required=False,
        choices=[("", _("Any stage")), *Lifecycle.choices],
    )
    tier_direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Up or down")), ("up", _("Up")), ("down", _("Down"))],
    )
    delay_hours = WholeNumberField(label=_("Hours after"), required=False, min_value=0)
    expiring_days = WholeNumberField(label=_("Days before expiry"), required=False, min_value=1)
    stored_value_below = YuanField(label=_("Stored value below"), required=False)

    schedule_mode = forms.ChoiceField(
        label=_("When to send"),
        choices=[
            (ScheduleMode.NOW, _("As soon as launched")),
            (ScheduleMode.AT, _("At a date and time")),
            (ScheduleMode.CRON, _("Repeatedly (cron)")),
        ],
        initial=ScheduleMode.NOW,
        widget=forms.RadioSelect,
    )
    schedule_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    cron = forms.CharField(
        label=_("Cron"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "mono", "placeholder": "0 10 * * 1"}),
        help_text=_("minute hour day month weekday, in the merchant's time zone"),
    )

    message_channel = forms.ChoiceField(label=_("Channel"), required=False)
    message_template = forms.ChoiceField(label=_("Message template"), required=False)
    message_text = forms.CharField(
        label=_("Or a text of its own"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=format_lazy(
            _("Variables: {variables}"), variables=", ".join(f"{{{v}}}" for v in VARIABLES)
        ),
    )
    coupon_template = forms.ChoiceField(label=_("Coupon"), required=False)
    points = WholeNumberField(label=_("Points"), required=False, min_value=1)
    tier = forms.ChoiceField(label=_("Move to the tier"), required=False)
    task_role = forms.ChoiceField(
        label=_("Follow-up task for"),
        required=False,
        choices=[("", _("No task")), *[(r.value, r.label) for r in Role if r != Role.CASHIER]],
    )

    holdout_percent = WholeNumberField(label=_("Holdout %"), min_value=0, max_value=50, initial=10)
    cap_per_7d = WholeNumberField(
        label=_("At most per member in 7 days"), required=False, min_value=1
    )
    quiet_from = forms.CharField(label=_("Quiet from"), required=False, max_length=5)
    quiet_to = forms.CharField(label=_("Quiet until"), required=False, max_length=5)
    budget = YuanField(label=_("Budget"), required=False)
    owner = forms.ChoiceField(
        label=_("Run by"),
        required=False,
        help_text=_("A store's own campaign reaches that store's members (the store pays)."),
    )

    def __init__(
        self,
        *args: Any,
        segments: list[tuple[int, str]],
        channels: list[tuple[str, str]],
        message_templates: list[tuple[str, str]],
        coupon_templates: list[tuple[str, str]],
        tiers: list[tuple[str, str]] = (),
        owners: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        owners = owners or [("", _("HQ"))]
        self.fields["owner"].choices = owners
        if owners[0][0]:  # a store manager: their store, nothing else to choose
            self.fields["owner"].required = True
            self.fields["owner"].initial = owners[0][0]
        self.fields["segment"].choices = [("", _("— choose a segment —")), *segments]
        self.fields["trigger_event"].choices = trigger_choices()
        self.fields["message_channel"].choices = [("", _("No message")), *channels]
        self.fields["message_template"].choices = [
            ("", _("— a text of its own —")),
            *message_templates,
        ]
        self.fields["coupon_template"].choices = [("", _("No coupon")), *coupon_templates]
        self.fields["tier"].choices = [("", _("No change of tier")), *tiers]
        # A preset or a saved campaign may name a template this list lacks (a built-in the
        # channels part resolves): offer it rather than silently dropping it.
        for name in ("message_template", "coupon_template", "tier"):
            code = (self.data.get(name) if self.is_bound else self.initial.get(name)) or ""
            choices = self.fields[name].choices
            if code and code not in {value for value, _label in choices}:
                self.fields[name].choices = [*choices, (code, code)]
        # Where each action of the last spec() went, so "actions[i]" errors find their input.
        self.action_slots: list[str] = []

    # ------------------------------------------------------------------ checks of the inputs

    def clean_filter(self) -> Any:
        text = self.cleaned_data.get("filter") or ""
        if not text.strip():
            return None
        try:
            node = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The filter is not valid JSON.")) from None
        if not isinstance(node, dict):
            raise forms.ValidationError(_("The filter must be an object with all or any."))
        return node

    def clean_quiet_from(self) -> str:
        return self.clean_hhmm("quiet_from")

    def clean_quiet_to(self) -> str:
        return self.clean_hhmm("quiet_to")

    def clean_hhmm(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not HHMM.fullmatch(value):
            raise forms.ValidationError(_("Enter a time as HH:MM, e.g. 21:00."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mode = data.get("audience_mode")
        if mode == AudienceMode.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose a segment."))
        if mode == AudienceMode.FILTER and data.get("filter") is None and "filter" in data:
            self.add_error("filter", _("Enter the filter."))
        if data.get("kind") == Campaign.Kind.TRIGGER and not data.get("trigger_event"):
            self.add_error("trigger_event", _("Choose the event that starts the journey."))
        schedule = data.get("schedule_mode")
        if schedule == ScheduleMode.AT and not data.get("schedule_at") and "schedule_at" in data:
            self.add_error("schedule_at", _("Enter the date and time."))
        if data.get("kind") == Campaign.Kind.RECURRING and not (data.get("cron") or "").strip():
            self.add_error("cron", _("A recurring campaign needs a cron."))
        if bool(data.get("quiet_from")) != bool(data.get("quiet_to")):
            self.add_error("quiet_to", _("Give both ends of the quiet hours."))
        return data

    # ------------------------------------------------------------------ form <-> API body

    def audience(self) -> dict[str, Any]:
        """The audience as the API takes it, from the inputs that were valid."""
        data = self.cleaned_data
        mode = data.get("audience_mode")
        if mode == AudienceMode.SEGMENT and data.get("segment"):
            return {"segment": data["segment"]}
        if mode == AudienceMode.FILTER and data.get("filter") is not None:
            return {"filter": data["filter"]}
        return {}

    def trigger(self) -> dict[str, Any]:
        data = self.cleaned_data
        event = data.get("trigger_event")
        if data.get("kind") != Campaign.Kind.TRIGGER or not event:
            return {}
        trigger: dict[str, Any] = {"event": event}
        if event == BIRTHDAY:
            trigger["calendar"] = data.get("birthday_calendar") or "member"
            trigger["when"] = data.get("birthday_when") or "day"
            if data.get("days_before") and trigger["when"] == "day":
                trigger["days_before"] = data["days_before"]  # 0 is the default: left out
        elif event == "lifecycle.changed" and data.get("lifecycle_to"):
            trigger["to"] = data["lifecycle_to"]
        elif event == "tier.changed" and data.get("tier_direction"):
            trigger["direction"] = data["tier_direction"]
        elif event == "sale.completed" and data.get("delay_hours"):
            trigger["delay_hours"] = data["delay_hours"]
        elif event == "points.expiring" and data.get("expiring_days"):
            trigger["days"] = data["expiring_days"]
        if event in ("topup.completed", "sale.completed") and data.get("stored_value_below"):
            trigger["stored_value_below"] = data["stored_value_below"]
        return trigger

    def schedule(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == Campaign.Kind.RECURRING or (
            kind != Campaign.Kind.TRIGGER and data.get("schedule_mode") == ScheduleMode.CRON
        ):
            return {"cron": (data.get("cron") or "").strip()}
        if kind == Campaign.Kind.ONCE and data.get("schedule_mode") == ScheduleMode.AT:
            at: dt.datetime | None = data.get("schedule_at")
            return {"at": timezone.localtime(at).isoformat()} if at else {}
        return {}

    def actions(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        actions: list[dict[str, Any]] = []
        self.action_slots = []
        if data.get("message_channel"):
            template: Any = data.get("message_template") or data.get("message_text") or ""
            actions.append(
                {"type": "message", "channel": data["message_channel"], "template": template}
            )
            self.action_slots.append("message")
        if data.get("coupon_template"):
            actions.append({"type": "coupon", "template": data["coupon_template"]})
            self.action_slots.append("coupon")
        if data.get("points"):
            actions.append({"type": "points", "points": data["points"]})
            self.action_slots.append("points")
        if data.get("tier"):
            actions.append({"type": "tier", "tier": data["tier"]})
            self.action_slots.append("tier")
        if data.get("task_role"):
            actions.append({"type": "task", "assignee_role": data["task_role"]})
            self.action_slots.append("task")
        return actions

    def spec(self) -> dict[str, Any]:
        """The API.md §9 body (plus purpose and budget) from a valid form."""
        data = self.cleaned_data
        quiet = [data["quiet_from"], data["quiet_to"]] if data.get("quiet_from") else []
        return {
            "name": data["name"],
            "purpose": data["purpose"],
            "kind": data["kind"],
            "audience": self.audience(),
            "trigger": self.trigger(),
            "schedule": self.schedule(),
            "actions": self.actions(),
            "holdout_percent": data["holdout_percent"],
            "caps": {"per_member_per_7d": data["cap_per_7d"]} if data.get("cap_per_7d") else {},
            "quiet_hours": quiet,
            "budget_fen": data.get("budget"),
            "owner": data.get("owner") or None,
        }

    def add_service_errors(self, problem: DomainError) -> None:
        """The service's errors next to their inputs, without the inner path a nested check
        may put before its message ("template.body_zh: ...")."""
        if not problem.errors:
            super().add_service_errors(problem)
        for error in problem.errors:
            self.add_error(self.form_field_for(error.field), INNER_PATH.sub("", str(error.message)))

    def form_field_for(self, service_field: str) -> str | None:
        """The service's paths ("audience.segment", "actions[0].template") on our inputs."""
        head, _dot, rest = service_field.partition(".")
        if match := re.fullmatch(r"actions\[(\d+)\]", head):
            index = int(match[1])
            slot = self.action_slots[index] if index < len(self.action_slots) else ""
            if slot == "message":
                return self.message_field(rest)
            by_slot = {
                "coupon": "coupon_template",
                "points": "points",
                "tier": "tier",
                "task": "task_role",
            }
            return by_slot.get(slot)
        by_segment = self.cleaned_data.get("audience_mode") == AudienceMode.SEGMENT
        mapping = {
            "audience": "segment" if by_segment else "filter",
            "trigger": "trigger_event",
            "schedule": "schedule_at" if rest == "at" else "cron",
            "caps": "cap_per_7d",
            "quiet_hours": "quiet_to",
            "budget_fen": "budget",
            "actions": "message_channel",
        }
        if head == "trigger" and rest in ("calendar", "when", "days_before"):
            return {"calendar": "birthday_calendar", "when": "birthday_when"}.get(rest, rest)
        if head in mapping:
            return mapping[head]
        return head if head in self.fields else None

    def message_field(self, rest: str) -> str:
        if rest != "template":
            return "message_channel"
        return "message_template" if self.cleaned_data.get("message_template") else "message_text"


def initial_from(campaign: Campaign | dict[str, Any]) -> dict[str, Any]:
    """The editor's inputs for a saved campaign, or for a preset (an API body)."""
    body = campaign if isinstance(campaign, dict) else campaign_body(campaign)
    audience = body.get("audience") or {}
    trigger = body.get("trigger") or {}
    schedule = body.get("schedule") or {}
    caps = body.get("caps") or {}
    quiet = body.get("quiet_hours") or []
    initial: dict[str, Any] = {
        "name": body.get("name", ""),
        "purpose": body.get("purpose", Purpose.CARE),
        "kind": body.get("kind", Campaign.Kind.ONCE),
        "holdout_percent": body.get("holdout_percent", 10),
        "cap_per_7d": caps.get("per_member_per_7d"),
        "quiet_from": quiet[0] if len(quiet) == 2 else "",
        "quiet_to": quiet[1] if len(quiet) == 2 else "",
        "budget": yuan_plain(body.get("budget_fen")),
    }
    if body.get("owner"):
        initial["owner"] = body["owner"]
    if "segment" in audience:
        initial.update(audience_mode=AudienceMode.SEGMENT, segment=audience["segment"])
    elif "filter" in audience:
        initial.update(
            audience_mode=AudienceMode.FILTER,
            filter=json.dumps(audience["filter"], ensure_ascii=False),
        )
    elif initial["kind"] == Campaign.Kind.TRIGGER:
        initial["audience_mode"] = AudienceMode.ALL
    initial.update(trigger_initial(trigger))
    if "cron" in schedule:
        initial.update(schedule_mode=ScheduleMode.CRON, cron=schedule["cron"])
    elif "at" in schedule:
        at = dt.datetime.fromisoformat(schedule["at"])
        initial.update(schedule_mode=ScheduleMode.AT, schedule_at=timezone.localtime(at))
    for action in body.get("actions") or []:
        initial.update(action_initial(action))
    return initial


def trigger_initial(trigger: dict[str, Any]) -> dict[str, Any]:
    return {
        "trigger_event": trigger.get("event", ""),
        "birthday_calendar": trigger.get("calendar", "member"),
        "birthday_when": trigger.get("when", "day"),
        "days_before": trigger.get("days_before"),
        "lifecycle_to": trigger.get("to", ""),
        "tier_direction": trigger.get("direction", ""),
        "delay_hours": trigger.get("delay_hours"),
        "expiring_days": trigger.get("days"),
        "stored_value_below": yuan_plain(trigger.get("stored_value_below")),
    }


def action_initial(action: dict[str, Any]) -> dict[str, Any]:
    kind = action.get("type")
    if kind == "message":
        template = action.get("template")
        if isinstance(template, dict):
            template = template.get("zh") or template.get("en") or ""
        is_code = isinstance(template, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", template)
        return {
            "message_channel": action.get("channel", ""),
            "message_template": template if is_code else "",
            "message_text": "" if is_code else template,
        }
    if kind == "coupon":
        return {"coupon_template": action.get("template", "")}
    if kind == "points":
        return {"points": action.get("points")}
    if kind == "tier":
        return {"tier": action.get("tier", "")}
    if kind == "task":
        return {"task_role": action.get("assignee_role", "")}
    return {}


def campaign_body(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "purpose": campaign.purpose,
        "kind": campaign.kind,
        "audience": campaign.audience,
        "trigger": campaign.trigger,
        "schedule": campaign.schedule,
        "actions": campaign.actions,
        "holdout_percent": campaign.holdout_percent,
        "caps": campaign.caps,
        "quiet_hours": campaign.quiet_hours,
        "budget_fen": campaign.budget_fen,
        "owner": campaign.owner_store.code if campaign.owner_store_id else "",
    }
