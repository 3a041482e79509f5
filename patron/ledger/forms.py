"""Console forms for stored value and points.

Money is typed in yuan and becomes integer fen here, through Decimal, never a float: "12.3"
is 1230 fen exactly, "12.345" is refused rather than rounded. Forms check what a person can
get wrong at the counter; the ledger services keep the last word (their DomainErrors come
back onto these forms through `add_domain_error`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.core.errors import DomainError
from patron.ledger import services
from patron.ledger.models import Transaction
from patron.ledger.templatetags.ledger import yuan
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import active_stores

FEN_PER_YUAN = 100
# Up to 12 digits of yuan, plain or grouped by thousands ("1,234"), and optional decimals.
# A comma anywhere else ("10,5") is refused: it may be a decimal comma, and guessing is wrong.
YUAN_SHAPE = re.compile(
    r"(?P<whole>[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3})(?:\.(?P<cents>[0-9]*))?"
)


class PaymentMethod:
    """How the member paid for a top-up (the API's `payment_method` values)."""

    CHOICES = (
        ("cash", _("Cash")),
        ("wechat", _("WeChat Pay")),
        ("alipay", _("Alipay")),
        ("bank_card", _("Bank card")),
        ("other", _("Other")),
    )

    @classmethod
    def label(cls, code: str) -> str:
        return str(dict(cls.CHOICES).get(code, code))

    @classmethod
    def is_known(cls, code: str) -> bool:
        return code in dict(cls.CHOICES)


# --- yuan -> fen -----------------------------------------------------------------------------


def parse_yuan(raw: Any) -> int:
    """'1,234.5' -> 123450 fen. Raises ValidationError for anything that is not such an amount.

    Full-width digits from Chinese input methods count (NFKC); a sign, an exponent or a third
    decimal do not: the cashier must see what will be charged, not a rounded guess.
    """
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    text = text.removeprefix("¥").replace(" ", "")
    match = YUAN_SHAPE.fullmatch(text)
    if not match:
        raise forms.ValidationError(_("Enter an amount in yuan, e.g. 100 or 99.50."))
    cents = (match["cents"] or "").rstrip("0")
    if len(cents) > 2:
        raise forms.ValidationError(_("At most two decimals (fen)."))
    try:
        fen = Decimal(text.replace(",", "")) * FEN_PER_YUAN
    except InvalidOperation:  # the pattern above rules this out; kept as a guard
        raise forms.ValidationError(_("Enter an amount in yuan, e.g. 100 or 99.50.")) from None
    return int(fen)


class YuanField(forms.Field):
    """A money input in yuan whose cleaned value is integer fen."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, *, maximum: int | None = None, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        return parse_yuan(value)

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value <= 0:
            raise forms.ValidationError(_("The amount must be greater than zero."))
        if self.maximum is not None and value > self.maximum:
            raise forms.ValidationError(
                _("At most %(max)s in one top-up.") % {"max": yuan(self.maximum)}
            )


# --- service errors onto forms ---------------------------------------------------------------


def add_domain_error(
    form: forms.Form, problem: DomainError, fields_by_code: dict[str, str] | None = None
) -> None:
    """Show a service's refusal on the form: per field when it names one, else above it.

    `fields_by_code` places errors that carry no field (e.g. insufficient_points) next to
    the input they are about.
    """
    if problem.errors:
        for error in problem.errors:
            field = error.field if error.field in form.fields else None
            form.add_error(field, str(error.message))
        return
    field = (fields_by_code or {}).get(problem.code)
    form.add_error(field if field in form.fields else None, str(problem))


class OneTimeTokenMixin:
    """A hidden uuid4 rendered into the form: the ledger's idempotency key for one submission.

    The same token posted twice (double click, browser resubmit) is the same movement, which
    the ledger applies once.
    """

    token_error = _("This form has expired. Check the values and submit it again.")

    def clean_token(self) -> str:
        raw = self.cleaned_data.get("token") or ""
        try:
            return str(uuid.UUID(raw, version=4))
        except ValueError:
            raise forms.ValidationError(self.token_error) from None

    def token_value(self) -> str:
        """The token to render: the posted one while it is valid, else a fresh one."""
        if self.is_bound and not self.errors.get("token"):
            posted = self.data.get("token", "")
            try:
                return str(uuid.UUID(posted, version=4))
            except ValueError:
                pass
        return str(uuid.uuid4())

    def token_errors(self) -> list[str]:
        return list(self.errors.get("token", [])) if self.is_bound else []


# --- point adjustment ------------------------------------------------------------------------


class AdjustPointsForm(OneTimeTokenMixin, forms.Form):
    points = forms.IntegerField(
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


class HistoryFilterForm(forms.Form):
    """Filters of a member's ledger history. Bad values are reported and ignored."""

    asset = forms.ChoiceField(
        label=_("Asset"),
        required=False,
        choices=[("", _("All")), ("points", _("Points")), ("stored_value", _("Stored value"))],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Transaction.Kind.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def valid_filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}


# --- top-up ----------------------------------------------------------------------------------


def find_member(actor: Actor, lookup: str) -> Member:
    """The one member with this exact mobile or card number that the actor may see."""
    text = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", lookup))
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


class TopUpForm(OneTimeTokenMixin, forms.Form):
    """One form for both steps: the preview checks it, the confirmation checks it again."""

    member = forms.CharField(
        label=_("Mobile or card number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "inputmode": "numeric"}
        ),
    )
    amount = YuanField(label=_("Amount (yuan)"))
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


# --- liabilities -----------------------------------------------------------------------------


class LiabilitiesForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of the end of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for now."),
    )
