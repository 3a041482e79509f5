"""Console forms: issue a coupon, set a member's tier, withdraw a coupon."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import OneTimeTokenMixin
from patron.promotions import selectors
from patron.promotions.describe import describe_validity
from patron.tenancy.actor import Actor


class IssueCouponForm(OneTimeTokenMixin, forms.Form):
    """The hidden token is the issue's idempotency key: a double click issues one coupon."""

    template = forms.ChoiceField(label=_("Coupon"))
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = ZoneInfo(actor.merchant.timezone)
        self.fields["template"].choices = [
            (t.code, f"{t.name} · {describe_validity(t, zone)}")
            for t in selectors.active_templates(actor.merchant)
        ]

    @property
    def has_templates(self) -> bool:
        return bool(self.fields["template"].choices)


class SetTierForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "autocomplete": "off"}),
        help_text=_("Recorded in the audit log."),
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [
            (t.code, t.name) for t in selectors.active_tiers(actor.merchant)
        ]


class EndCouponForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        error_messages={"required": _("A reason is required.")},
        widget=forms.TextInput(attrs={"maxlength": 200, "autocomplete": "off"}),
    )
