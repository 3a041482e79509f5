"""Console forms for a member's stored value and points: top-up, point adjustment, history.

Money is typed in yuan and becomes integer fen through `patron.core.forms.YuanField`, never a
float. Forms check what a person can get wrong at the counter; the ledger services keep the
last word (their DomainErrors come back onto these forms through `ServiceErrorsMixin`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.core.errors import DomainError
from patron.core.forms import (
    ConsoleForm,
    DayField,
    OneTimeTokenMixin,
    RefuseNulMixin,
    ServiceErrorsMixin,
    WholeNumberField,
    YuanField,
)
from patron.core.text import nfkc
from patron.ledger import payments, services
from patron.ledger.models import Transaction
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.tenancy.actor import Actor
from patron.tenancy.forms import check_named_staff, staff_choice_field
from patron.tenancy.models import Store
from patron.tenancy.selectors import active_stores


class PaymentMethod:
    """How the member paid for a top-up: the tenders' methods (`patron.ledger.payments`)."""

    CHOICES = payments.CHOICES

    @classmethod
    def label(cls, code: str) -> str:
        return payments.label(code)

    @classmethod
    def is_known(cls, code: str) -> bool:
        return payments.is_known(code)


# --- point adjustment ------------------------------------------------------------------------


class AdjustPointsForm(ServiceErrorsMixin, OneTimeTokenMixin, ConsoleForm):
    errors_by_code = {"insufficient_points": "points"}

    # The merchant's limit (max_adjust_points) is the service's to check, with its message.
    points = WholeNumberField(
        label=_("Points"),
        help_text=_("Positive to add, negative to take away (e.g. 200 or -50)."),
        widget=forms.NumberInput(attrs={"step": 1, "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Why: the member and the audit log will show it."),
        error_messages={"required": _("A reason is required.")},
        widget=forms.TextInput(attrs={"maxlength": 200, "autocomplete": "off"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_points(self) -> int:
        delta = self.cleaned_data["points"]
        if delta == 0:
            raise forms.ValidationError(_("Zero changes nothing: enter points to add or remove."))
        return delta


# --- ledger history filters ------------------------------------------------------------------


class HistoryFilterForm(ConsoleForm):
    """Filters of a member's ledger history. Bad values are reported and ignored.

    Days are bounded (DayField): the filter compares with the start of `date_from` and the end
    of `date_to`, which 0001-01-01 and 9999-12-31 do not have in every zone.
    """

    asset = forms.ChoiceField(
        label=_("Asset"),
        required=False,
        choices=[("", _("All")), ("points", _("Points")), ("stored_value", _("Stored value"))],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Transaction.Kind.choices]
    )
    date_from = DayField(label=_("From"), required=False)
    date_to = DayField(label=_("To"), required=False)

    def valid_filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}


# --- top-up ----------------------------------------------------------------------------------


def find_member(actor: Actor, lookup: str) -> Member:
    """The one member with this exact mobile or card number that the actor may see."""
    text = re.sub(r"[\s\-]", "", nfkc(lookup))
    mobile = text.removeprefix("+86") if text.startswith("+86") else text
    found = list(members_for(actor).filter(Q(mobile=mobile) | Q(card_no=text))[:2])
    if not found:
        raise forms.ValidationError(_("No member with this mobile or card number."))
    if len(found) > 1:
        raise forms.ValidationError(
            _("More than one member matches: enter the full card number instead.")
        )
    return found[0]


def store_choices(actor: Actor) -> list[tuple[str, str]]:
    return [("", _("— Choose the store —"))] + [
        (store.code, str(store)) for store in active_stores(actor.merchant)
    ]


class TopUpForm(ServiceErrorsMixin, OneTimeTokenMixin, RefuseNulMixin, forms.Form):
    """One form for both steps: the preview checks it, the confirmation checks it again."""

    errors_by_code = {"member_frozen": "member"}

    member = forms.CharField(
        label=_("Mobile or card number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "inputmode": "numeric"}
        ),
    )
    amount = YuanField(
        label=_("Amount (yuan)"),
        error_messages={"too_much": _("At most %(max)s in one top-up.")},
    )
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.CHOICES)
    store = forms.ChoiceField(
        label=_("Store"), help_text=_("Where the member pays in."), required=True
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: Actor, needs_token: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.needs_token = needs_token
        self.policy = services.policy_for(actor.merchant)
        self.fields["amount"].maximum = self.policy.max_topup
        if actor.store_bound is not None:
            del self.fields["store"]  # store staff top up at their own store only
        else:
            self.fields["store"].choices = store_choices(actor)
        self.fields["staff"] = staff_choice_field(actor)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        check_named_staff(self, self.actor, self.pay_in_store)
        return cleaned

    def clean_member(self) -> Member:
        member = find_member(self.actor, self.cleaned_data["member"])
        try:
            services.ensure_active(member)
        except DomainError as problem:
            raise forms.ValidationError(str(problem)) from None
        return member

    def clean_store(self) -> Store:
        code = self.cleaned_data["store"]
        store = active_stores(self.actor.merchant).filter(code=code).first()
        if store is None:
            raise forms.ValidationError(_("Choose the store where the member pays in."))
        return store

    def clean_token(self) -> str:
        if not self.needs_token:
            return ""
        return super().clean_token()

    @property
    def pay_in_store(self) -> Store | None:
        """The store the money is paid in at (a property named `store` would hide the field)."""
        bound = self.actor.store_bound
        return bound if bound is not None else self.cleaned_data.get("store")

    def lookup_text(self) -> str:
        """What was typed to find the member, to carry into the next step."""
        return self.data.get("member", "") if self.is_bound else ""

    def store_code(self) -> str:
        store = self.pay_in_store if self.is_valid() else None
        return store.code if store is not None else ""
