"""Forms of the feedback pages: record an event, filter the events, close or hand over a
follow-up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, DayField, ServiceErrorsMixin, search_field
from patron.insight import feedback
from patron.insight.models import MemberEvent
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import active_stores

RATINGS = [("", "—")] + [(str(n), "★" * n) for n in range(5, 0, -1)]


def staff_label(staff) -> str:
    name = staff.user.get_full_name() or staff.user.get_username()
    where = staff.store.name if staff.store else staff.get_role_display()
    return f"{name} · {where}"


class EventForm(ServiceErrorsMixin, ConsoleForm):
    """What a member said or did, as the member page's panel and the record page ask it."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *MemberEvent.Kind.choices])
    rating = forms.TypedChoiceField(
        label=_("Rating"), choices=RATINGS, coerce=int, empty_value=None, required=False
    )
    body = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=feedback.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def service_data(self) -> feedback.EventInput:
        data = self.cleaned_data
        return feedback.EventInput(kind=data["kind"], rating=data["rating"], body=data["body"])


class EventFilterForm(ConsoleForm):
    """The event list's filters. Bad values are reported and ignored."""

    q = search_field(_("Mobile, name or card number"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    store = forms.ChoiceField(label=_("Store"), required=False)
    since = DayField(label=_("From"), required=False)
    until = DayField(label=_("To"), required=False)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = ("", _("All"))
        self.fields["kind"].choices = [everything, *MemberEvent.Kind.choices]
        if actor.store_bound is not None:
            del self.fields["store"]  # a store's staff only ever see their store's members
        else:
            stores = [(s.code, str(s)) for s in active_stores(actor.merchant)]
            self.fields["store"].choices = [everything, *stores]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            # A range backwards is ignored whole: half of it would filter something else.
            self.add_error("until", _("The end date is before the start date."))
            cleaned.pop("since", None)
        return cleaned

    def criteria(self) -> dict[str, Any]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}


class CloseForm(ServiceErrorsMixin, ConsoleForm):
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=feedback.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the member was told and what was done."),
    )


class ReassignForm(ServiceErrorsMixin, ConsoleForm):
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int)

    def __init__(self, *args: Any, task, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = feedback.assignable_staff(task.merchant_id, task.store)
        self.fields["assignee"].choices = [(s.user_id, staff_label(s)) for s in staff]
        self.initial.setdefault("assignee", task.assignee_id)
