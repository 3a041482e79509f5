"""Form pieces every console app uses: yuan inputs, whole numbers and days as people type them,
a base that refuses NUL bytes, service errors on forms, one-time tokens."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from patron.core.errors import DomainError
from patron.core.money import FEN_PER_YUAN, yuan
from patron.core.text import INT64_MAX, INT64_MIN, nfkc, parse_int

# Up to 12 digits of yuan, plain or grouped by thousands ("1,234"), and optional decimals.
# A comma anywhere else ("10,5") is refused: it may be a decimal comma, and guessing is wrong.
YUAN_SHAPE = re.compile(
    r"(?P<whole>[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3})(?:\.(?P<cents>[0-9]*))?"
)


def parse_yuan(raw: Any) -> int:
    """'1,234.5' -> 123450 fen. Raises ValidationError for anything that is not such an amount.

    Full-width digits from Chinese input methods count (NFKC); other digits ("²", "١"), a sign,
    an exponent or a third decimal do not: the cashier must see what will be charged, not a
    rounded guess.
    """
    text = nfkc(str(raw or "")).strip()
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
    """A money input in yuan whose cleaned value is integer fen, above zero.

    `maximum` (fen) caps it; `too_much` is the message shown above the cap, formatted with
    `max` (the cap in yuan).
    """

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {
        "not_positive": _("The amount must be greater than zero."),
        "too_much": _("At most %(max)s."),
    }

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
            raise forms.ValidationError(self.error_messages["not_positive"], code="not_positive")
        if self.maximum is not None and value > self.maximum:
            raise forms.ValidationError(
                self.error_messages["too_much"] % {"max": yuan(self.maximum)}, code="too_much"
            )


# The days a console filter or form accepts. Wide enough for any member's history (imports
# take join dates from 1900), narrow enough that a day's end or the next day always exists
# (9999-12-31 plus a day overflows) and the database can compare it.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)


class DayField(forms.DateField):
    """A date between EARLIEST_DAY and LATEST_DAY; outside them a form error, not a 500."""

    default_error_messages = {
        "out_of_range": _("Enter a date between %(earliest)s and %(latest)s."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
            )


class WholeNumberField(forms.IntegerField):
    """An IntegerField that reads ASCII digits only (full-width ones count, NFKC).

    Django's IntegerField hands the text to int(), which reads "١٢" as 12; here "١٢", "²" or
    "፩" is the field's "Enter a whole number" error. Without bounds of its own the value still
    fits a 64-bit column.
    """

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = parse_int(str(value), low=INT64_MIN, high=INT64_MAX)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class RefuseNulMixin:
    """For console forms: no field takes a NUL byte, whatever its type.

    PostgreSQL refuses NUL in text, so one reaching a query is a 500. Django's CharField has
    this validator already; choice, date, number and custom fields get it here, so a form
    built on this mixin cannot hand a NUL to a query through any field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators):
                field.validators.append(ProhibitNullCharactersValidator())


def search_field(placeholder: str, *, max_length: int) -> forms.CharField:
    """A list page's search box: optional, focused when the page opens, no autocomplete."""
    return forms.CharField(
        label=_("Search"),
        required=False,
        max_length=max_length,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": placeholder,
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )


class ConsoleForm(RefuseNulMixin, forms.Form):
    """The base of console forms (see RefuseNulMixin)."""


class ServiceErrorsMixin:
    """Show a service's refusal on the form: each FieldError next to its input, the rest above.

    `errors_by_code` places errors that carry no field (e.g. `insufficient_points`) next to
    the input they are about; `form_field_for` maps a service's field name to the form's.
    """

    errors_by_code: dict[str, str] = {}

    def form_field_for(self, service_field: str) -> str | None:
        """The form field showing errors about `service_field`; None means above the form."""
        return service_field if service_field in self.fields else None

    def add_service_errors(self, problem: DomainError) -> None:
        if not problem.errors:
            field = self.errors_by_code.get(problem.code)
            self.add_error(field if field in self.fields else None, str(problem.detail))
            return
        for error in problem.errors:
            self.add_error(self.form_field_for(error.field), str(error.message))


class OneTimeTokenMixin:
    """A hidden uuid4 rendered into the form: the idempotency key of one submission.

    The same token posted twice (double click, browser resubmit) is the same write, which the
    service applies once.
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
