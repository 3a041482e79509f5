"""The tier editor's form: one tier of the program file's `tiers` section."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, WholeNumberField, YuanField
from patron.core.money import FEN_PER_YUAN
from patron.engine.tiers import KEYS
from patron.program.selectors import category_names
from patron.promotions.models import CouponTemplate
from patron.tenancy.actor import Actor

FEN_KEYS = frozenset({"spend_12m", "spend_total", "single_topup", "single_sale"})


def key_label(key: str) -> Any:
    return {
        "spend_12m": _("Spend in the last 12 months"),
        "spend_total": _("Total spend"),
        "points_12m": _("Points earned in the last 12 months"),
        "points_total": _("Points earned in total"),
        "single_topup": _("A single top-up (12 months)"),
        "single_sale": _("A single purchase (12 months)"),
        "visits_12m": _("Visits in the last 12 months"),
    }[key]


def _threshold_field(key: str, what: Any) -> forms.Field:
    label = f"{what}: {key_label(key)}"
    if key in FEN_KEYS:
        return YuanField(label=label, required=False, help_text=_("yuan"))
    return WholeNumberField(label=label, required=False, min_value=0)


class TierForm(ConsoleForm):
    name = forms.CharField(label=_("Tier name"), max_length=100)
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        decimal_places=2,
        help_text=_("1 when left empty; 1.5 = one and a half times the points"),
    )
    grace_days = WholeNumberField(
        label=_("Grace days"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_("Days below every keep condition before dropping a rank (30 when empty)"),
    )
    birthday_points = WholeNumberField(
        label=_("Birthday gift: points"), required=False, min_value=1
    )
    birthday_coupon = forms.ChoiceField(label=_("Birthday gift: coupon"), required=False)
    privileges = forms.CharField(
        label=_("Privileges"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. 延迟退房"),
    )

    def __init__(self, *args: Any, actor: Actor, rank: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rank = rank
        self.categories = category_names(actor.merchant)
        for code, shown in self.categories.items():
            self.fields[f"discount_{code}"] = WholeNumberField(
                label=_("Member price on %s (percent)") % shown,
                required=False,
                min_value=1,
                max_value=100,
                help_text=_("88 = 8.8折; empty: list price"),
            )
        if rank > 0:  # rank 0 is where members start: no conditions there
            for key in KEYS:
                self.fields[f"upgrade_{key}"] = _threshold_field(key, _("Upgrade when"))
            for key in KEYS:
                self.fields[f"keep_{key}"] = _threshold_field(key, _("Keep when"))
        templates = CouponTemplate.objects.filter(merchant=actor.merchant, is_active=True)
        self.fields["birthday_coupon"].choices = [("", "—")] + [
            (t.code, t.name) for t in templates.order_by("code")
        ]

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        parts: list[tuple[Any, list[str]]] = [
            (_("Tier"), ["name", "points_multiplier"]),
            (_("Member prices"), [f"discount_{code}" for code in self.categories]),
        ]
        if self.rank > 0:
            parts.append((_("Upgrade when (any one)"), [f"upgrade_{key}" for key in KEYS]))
            parts.append(
                (_("Keep when (any one)"), [f"keep_{key}" for key in KEYS] + ["grace_days"])
            )
        parts.append((_("Birthday gift and privileges"), ["birthday_points", "birthday_coupon"]))
        parts.append(("", ["privileges"]))
        return [(title, [self[name] for name in names]) for title, names in parts]

    @classmethod
    def initial_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": row.get("name", "")}
        if "points_multiplier" in row:
            initial["points_multiplier"] = row["points_multiplier"]
        for code, percent in (row.get("discount") or {}).items():
            initial[f"discount_{code}"] = percent
        for part, prefix in (("upgrade_when", "upgrade"), ("keep_when", "keep")):
            for key, value in (row.get(part) or {}).items():
                shown = Decimal(value) / FEN_PER_YUAN if key in FEN_KEYS else value
                initial[f"{prefix}_{key}"] = shown
        if "grace_days" in row:
            initial["grace_days"] = row["grace_days"]
        gift = row.get("birthday_gift") or {}
        initial["birthday_points"] = gift.get("points")
        initial["birthday_coupon"] = gift.get("coupon", "")
        initial["privileges"] = "\n".join(row.get("privileges") or [])
        return initial

    def to_row(self, code: str) -> dict[str, Any]:
        """The tier as the program file writes it (what `patron program export` gives)."""
        data = self.cleaned_data
        row: dict[str, Any] = {"code": code, "name": data["name"].strip(), "rank": self.rank}
        discount = {
            c: data[f"discount_{c}"]
            for c in self.categories
            if data.get(f"discount_{c}") not in (None, "")
        }
        if discount:
            row["discount"] = discount
        multiplier = data.get("points_multiplier")
        if multiplier is not None and multiplier != 1:
            row["points_multiplier"] = int(multiplier) if multiplier % 1 == 0 else float(multiplier)
        if self.rank > 0:
            for part, prefix in (("upgrade_when", "upgrade"), ("keep_when", "keep")):
                given = {
                    key: data[f"{prefix}_{key}"]
                    for key in KEYS
                    if data.get(f"{prefix}_{key}") is not None
                }
                if given:
                    row[part] = given
        if data.get("grace_days") is not None:
            row["grace_days"] = data["grace_days"]
        gift = {}
        if data.get("birthday_points"):
            gift["points"] = data["birthday_points"]
        if data.get("birthday_coupon"):
            gift["coupon"] = data["birthday_coupon"]
        if gift:
            row["birthday_gift"] = gift
        privileges = [line.strip() for line in data.get("privileges", "").splitlines()]
        if any(privileges):
            row["privileges"] = [line for line in privileges if line]
        return row
