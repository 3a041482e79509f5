"""The card product editor's form: every field of a card product (program file
`card_products`), money in yuan, the face as a colour or an uploaded image."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.cards import faces
from patron.core.forms import ConsoleForm, YuanField
from patron.core.text import nfkc
from patron.promotions.models import Tier

CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
MAX_FEE = 10**9  # 1,000 万元: far beyond any card's fee


class FeeField(YuanField):
    """A fee in yuan: 0 allowed (a free card), a negative amount refused in words."""

    default_error_messages = {
        **YuanField.default_error_messages,
        "negative": _("A fee cannot be negative."),
    }

    def __init__(self, *, allow_zero: bool = True, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(maximum=MAX_FEE, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and nfkc(value).strip().startswith("-"):
            raise forms.ValidationError(self.error_messages["negative"], code="negative")
        return super().to_python(value)

    def validate(self, value: int | None) -> None:
        if value == 0 and self.allow_zero:
            return
        super().validate(value)


def yuan_text(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


class CardProductForm(ConsoleForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Letters, digits, - and _; it cannot be changed later."),
    )
    name = forms.CharField(label=pgettext_lazy("card product", "Name"), max_length=100)
    fee = FeeField(
        label=pgettext_lazy("card product", "Fee (yuan)"),
        help_text=_("The card fee, or the price of a paid membership; 0 for a free card."),
    )
    tier = forms.ChoiceField(label=_("Starting tier"), required=False)
    validity_days = forms.IntegerField(
        label=_("Valid for (days)"),
        required=False,
        min_value=1,
        max_value=36500,
        help_text=_("Empty: the card does not expire."),
    )
    physical = forms.BooleanField(label=_("Physical card (else an e-card)"), required=False)
    face_colour = forms.CharField(
        label=_("Face colour"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    face_upload = forms.FileField(
        label=_("Face image (PNG or JPEG, at most 2 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_face_image = forms.BooleanField(label=_("Remove the face image"), required=False)
    fee_waived_by_topup = FeeField(
        label=_("Fee waived by a top-up of (yuan)"),
        required=False,
        allow_zero=False,
        help_text=_("Empty: a top-up never waives the fee."),
    )
    first_deposit_min = FeeField(
        label=_("A first deposit of at least (yuan)"), required=False, allow_zero=False
    )
    first_deposit_tier = forms.ChoiceField(label=_("…puts the member on"), required=False)
    replace_fee = FeeField(label=_("Replacement fee (yuan)"), required=False)
    replace_wait_days = forms.IntegerField(
        label=_("Waiting days before a replacement"), required=False, min_value=0, max_value=365
    )
    paid_days = forms.IntegerField(
        label=_("Paid membership days"),
        required=False,
        min_value=1,
        max_value=36500,
        help_text=_("Set it to sell this product as a paid membership (e.g. 365 for a year)."),
    )
    refund_allowed = forms.BooleanField(label=_("May be refunded"), required=False)
    refund_fee = forms.BooleanField(label=_("A card refund returns the fee"), required=False)
    refund_bonus = forms.ChoiceField(
        label=_("Bonus stored value on a card refund"),
        choices=[("forfeit", _("Forfeited")), ("keep", _("Paid back as principal"))],
    )
    refund_pro_rata = forms.BooleanField(
        label=_("A paid membership refund returns the unused days"), required=False
    )

    SECTIONS = (
        (_("Card"), ("code", "name", "fee", "tier", "validity_days", "physical")),
        (_("Face"), ("face_colour", "face_upload", "remove_face_image")),
        (
            _("Fees and deposits"),
            (
                "fee_waived_by_topup",
                "first_deposit_min",
                "first_deposit_tier",
                "replace_fee",
                "replace_wait_days",
            ),
        ),
        (_("Paid membership"), ("paid_days",)),
        (_("Refunds"), ("refund_allowed", "refund_fee", "refund_bonus", "refund_pro_rata")),
    )

    def __init__(self, *args, merchant, editing: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tiers = [
            (t.code, t.name)
            for t in Tier.objects.filter(merchant=merchant, is_active=True).order_by("rank")
        ]
        self.fields["tier"].choices = [("", _("— none —")), *tiers]
        self.fields["first_deposit_tier"].choices = [("", _("— none —")), *tiers]
        self.editing = editing
        self.face_image = (self.initial or {}).get("face_image", "")
        self.new_face: tuple[bytes, str] | None = None
        if editing is not None:
            self.fields["code"].disabled = True

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    @classmethod
    def initial_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        refund = {"fee": False, "bonus": "forfeit", "pro_rata": True, "allowed": True}
        refund.update(row.get("refund") or {})
        deposit = row.get("first_deposit") or {}
        return {
            "code": row["code"],
            "name": row["name"],
            "fee": yuan_text(row.get("fee", 0)),
            "tier": row.get("tier", ""),
            "validity_days": row.get("validity_days"),
            "physical": bool(row.get("physical")),
            "face_colour": row.get("face_colour", ""),
            "face_image": row.get("face_image", ""),
            "fee_waived_by_topup": yuan_text(row.get("fee_waived_by_topup")),
            "first_deposit_min": yuan_text(deposit.get("min")),
            "first_deposit_tier": deposit.get("tier", ""),
            "replace_fee": yuan_text(row.get("replace_fee", 0)),
            "replace_wait_days": row.get("replace_wait_days", 0),
            "paid_days": row.get("paid_days"),
            "refund_allowed": refund["allowed"],
            "refund_fee": refund["fee"],
            "refund_bonus": refund["bonus"],
            "refund_pro_rata": refund["pro_rata"],
        }

    @classmethod
    def blank_initial(cls) -> dict[str, Any]:
        return {
            "fee": "0",
            "replace_fee": "0",
            "replace_wait_days": 0,
            "face_colour": "#3056D3",
            "refund_allowed": True,
            "refund_bonus": "forfeit",
            "refund_pro_rata": True,
        }

    def clean_code(self) -> str:
        if self.editing is not None:
            return self.editing
        code = nfkc(self.cleaned_data["code"]).strip()
        if not CODE.fullmatch(code):
            raise forms.ValidationError(_("Use letters, digits, - and _ only."))
        return code

    def clean_face_colour(self) -> str:
        colour = (self.cleaned_data.get("face_colour") or "").strip()
        if colour and not COLOUR.fullmatch(colour):
            raise forms.ValidationError(_("A colour as #RRGGBB."))
        return colour.upper()

    def clean_face_upload(self):
        upload = self.cleaned_data.get("face_upload")
        if upload:
            try:
                self.new_face = faces.checked(upload)
            except faces.BadImage as bad:
                raise forms.ValidationError(str(bad)) from None
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_min = data.get("first_deposit_min") is not None
        if has_min != bool(data.get("first_deposit_tier")):
            self.add_error(
                "first_deposit_tier",
                _("Give both the first deposit and the tier it grants, or neither."),
            )
        return data

    def to_row(self, face_image: str) -> dict[str, Any]:
        """The program file's row (as `patron program export` writes it)."""
        data = self.cleaned_data
        row: dict[str, Any] = {"code": data["code"], "name": data["name"].strip()}
        row["fee"] = data["fee"] or 0
        if data["tier"]:
            row["tier"] = data["tier"]
        if data["validity_days"]:
            row["validity_days"] = data["validity_days"]
        if data["physical"]:
            row["physical"] = True
        if data["face_colour"]:
            row["face_colour"] = data["face_colour"]
        if face_image:
            row["face_image"] = face_image
        if data["fee_waived_by_topup"]:
            row["fee_waived_by_topup"] = data["fee_waived_by_topup"]
        if data["first_deposit_min"]:
            row["first_deposit"] = {
                "min": data["first_deposit_min"],
                "tier": data["first_deposit_tier"],
            }
        if data["replace_fee"]:
            row["replace_fee"] = data["replace_fee"]
        if data["replace_wait_days"]:
            row["replace_wait_days"] = data["replace_wait_days"]
        if data["paid_days"]:
            row["paid_days"] = data["paid_days"]
        row["refund"] = {
            "fee": bool(data["refund_fee"]),
            "bonus": data["refund_bonus"],
            "pro_rata": bool(data["refund_pro_rata"]),
            "allowed": bool(data["refund_allowed"]),
        }
        return row

    def add_row_errors(self, row_errors, other_errors) -> None:
        """A refusal by the program schema, next to the input it is about."""
        for error in row_errors:
            name = error.path.split(".")[0].split("[")[0]
            name = {"first_deposit": "first_deposit_min", "refund": "refund_allowed"}.get(
                name, name
            )
            self.add_error(name if name in self.fields else None, error.message)
        for message in other_errors:
            self.add_error(None, message)
