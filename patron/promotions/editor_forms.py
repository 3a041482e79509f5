"""The promotion and coupon template editor: a marketer's form that reads and writes a program
file row (API.md §2, §4).

The form speaks the shop's language (yuan, 折, weekdays, names of stores, tiers and
categories); `to_row()` turns it into the row the program file holds, `initial_from_row()` the
other way. The program schema checks the row when it is applied (editing.py); its refusals come
back on the fields they are about (`field_for_path`). Fields that do not matter for the chosen
benefit type are hidden by promotion-editor.js and left out of the row.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.core.forms import ConsoleForm, WholeNumberField, YuanField
from patron.core.money import yuan_plain
from patron.core.text import nfkc
from patron.program.fields import CATEGORY_SHAPE
from patron.program.models import Category
from patron.promotions import selectors
from patron.promotions.editing import RowError
from patron.promotions.models import Promotion, Stacking
from patron.promotions.preview import EXAMPLE_LINES, ExampleLine
from patron.promotions.store_activities import store_scope
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

BENEFIT_TYPES = [
    ("percent", _("Percent off (e.g. 8.8折)")),
    ("fixed", _("Amount off (满减 / 立减)")),
    ("fixed_price", _("Fixed price per item (一口价)")),
    ("free_items", _("Free items (买N送M)")),
    ("cheapest_percent", _("Off the cheapest item (第二件半价)")),
    ("gift", _("Free gift (赠品)")),
    ("points_multiplier", _("Extra points (积分加倍)")),
    ("free_shipping", _("Free shipping")),
]
# The inputs each benefit type uses; the others are hidden and left out of the row.
BENEFIT_FIELDS = {
    "percent": ("rate", "benefit_skus", "benefit_categories", "max_discount"),
    "fixed": ("amount", "benefit_skus", "benefit_categories"),
    "fixed_price": ("amount", "benefit_skus", "benefit_categories", "max_discount"),
    "free_items": ("buy", "get", "quantity", "benefit_skus", "benefit_categories", "max_discount"),
    "cheapest_percent": ("rate", "benefit_skus", "benefit_categories", "max_discount"),
    "gift": ("gift_sku", "quantity"),
    "points_multiplier": ("multiplier", "benefit_skus", "benefit_categories"),
    "free_shipping": (),
}
WEEKDAYS = [
    (1, pgettext_lazy("weekday", "Mon")),
    (2, pgettext_lazy("weekday", "Tue")),
    (3, pgettext_lazy("weekday", "Wed")),
    (4, pgettext_lazy("weekday", "Thu")),
    (5, pgettext_lazy("weekday", "Fri")),
    (6, pgettext_lazy("weekday", "Sat")),
    (7, pgettext_lazy("weekday", "Sun")),
]
LIST_SEPARATORS = re.compile(r"[\s,，、;；]+")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
RATE_SHAPE = re.compile(r"\d(\.\d)?")
# Where the program schema's paths (below the row) show on the form.
PATH_FIELDS = {
    "benefit.type": "benefit_type",
    "benefit.buy": "buy",
    "benefit.get": "get",
    "benefit.quantity": "quantity",
    "benefit.sku": "gift_sku",
    "benefit.skus": "benefit_skus",
    "benefit.categories": "benefit_categories",
    "benefit.max_discount": "max_discount",
    "benefit": "buy",
    "condition.min_amount": "min_amount",
    "condition.min_quantity": "min_quantity",
    "condition.skus": "condition_skus",
    "condition.categories": "condition_categories",
    "condition.tiers": "tiers",
    "condition.weekdays": "weekdays",
    "condition.stores": "stores",
    "condition.starts_at": "starts_at",
    "condition.ends_at": "ends_at",
    "condition.first_purchase": "first_purchase",
}
VALUE_FIELDS = {
    "percent": "rate",
    "cheapest_percent": "rate",
    "fixed": "amount",
    "fixed_price": "amount",
    "points_multiplier": "multiplier",
}


def category_label(category: Category) -> str:
    """A category's display name when the catalogue gives one, else its code."""
    return getattr(category, "name", "") or category.code


def split_list(text: str) -> list[str]:
    return [item for item in LIST_SEPARATORS.split(nfkc(text or "").strip()) if item]


class AmountField(YuanField):
    """An amount in yuan that may be zero (a fixed price of ¥0, a threshold of ¥0)."""

    def validate(self, value: int | None) -> None:
        if value == 0:
            return
        super().validate(value)


class RateField(forms.CharField):
    """折 as people say it: 8.8 (折) is 12 % off; the cleaned value is the percent off."""

    default_error_messages = {
        "invalid": _("Enter 折 from 0 to 9.9 with at most one decimal, e.g. 8.8 or 5."),
    }

    def to_python(self, value: Any) -> int | None:
        text = nfkc(str(value or "")).strip().removesuffix("折")
        if not text:
            return None
        if not RATE_SHAPE.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return 100 - int(Decimal(text) * 10)


def rate_text(percent_off: int) -> str:
    """12 (percent off) -> '8.8'; 50 -> '5'."""
    tenths = 100 - percent_off
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


class MultiplierField(forms.CharField):
    default_error_messages = {"invalid": _("Enter a multiplier such as 2 or 1.5.")}

    def to_python(self, value: Any) -> int | float | None:
        text = nfkc(str(value or "")).strip().removesuffix("倍").removesuffix("×")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(number) if number == number.to_integral_value() else float(number)


def local_input(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime(LOCAL_INPUT) if moment else ""


def _date_time_field(label: Any, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        help_text=help_text,
    )


def _checkboxes(label: Any, help_text: Any = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, widget=forms.CheckboxSelectMultiple, help_text=help_text
    )


def _whole(label: Any, help_text: Any = "", **kwargs: Any) -> WholeNumberField:
    attrs = {"inputmode": "numeric", "autocomplete": "off"}
    return WholeNumberField(
        label=label, required=False, help_text=help_text, widget=forms.TextInput(attrs), **kwargs
    )


class RuleForm(ConsoleForm):
    """What promotions and coupon templates share: name, benefit, condition, stacking."""

    section = ""
    name = forms.CharField(
        label=pgettext_lazy("promotion", "Name"),
        max_length=100,
        help_text=_("Shown on receipts."),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Letters, digits, - or _; reports and the till know it by this."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    owner = forms.ChoiceField(
        label=_("Run by"),
        required=False,
        help_text=_("HQ's for the whole chain, or one store's own (the store pays for it)."),
    )
    benefit_type = forms.ChoiceField(label=_("Benefit"), choices=BENEFIT_TYPES, initial="percent")
    rate = RateField(
        label=_("Discount (折)"),
        required=False,
        help_text=_("8.8 = 8.8折, 12 percent off; 5 = half price; 0 = free."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    amount = AmountField(label=_("Amount (yuan)"), required=False)
    buy = _whole(_("Buy (items)"), _("Buy 2 get 1: buy 2, get 1."))
    get = _whole(_("Get free (items)"))
    quantity = _whole(_("Quantity"), _("Free items without buy/get, or units of the gift."))
    gift_sku = forms.CharField(label=_("Gift SKU"), max_length=64, required=False)
    multiplier = MultiplierField(
        label=_("Points multiplier"),
        required=False,
        help_text=_("2 = double points."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    benefit_skus = forms.CharField(
        label=_("Only on SKUs"),
        required=False,
        max_length=2000,
        help_text=_("Separated by commas or spaces; empty = the whole order."),
    )
    benefit_categories = _checkboxes(_("Only on categories"))
    max_discount = YuanField(
        label=_("At most (yuan)"), required=False, help_text=_("Cap of one application.")
    )
    min_amount = AmountField(label=_("Spend at least (yuan)"), required=False)
    min_quantity = _whole(_("At least (items)"))
    condition_skus = forms.CharField(
        label=_("Basket must hold SKUs"), required=False, max_length=2000
    )
    condition_categories = _checkboxes(_("Basket must hold categories"))
    tiers = _checkboxes(_("Member tiers"), _("None ticked: every customer."))
    weekdays = _checkboxes(_("Weekdays"), _("None ticked: every day."))
    stores = _checkboxes(_("Stores"), _("None ticked: every store."))
    starts_at = _date_time_field(_("Starts"))
    ends_at = _date_time_field(_("Ends"), _("Not included."))
    first_purchase = forms.BooleanField(label=_("First purchase only"), required=False)
    stacking = forms.ChoiceField(
        label=_("With other promotions"),
        choices=[
            (Stacking.STACKABLE.value, _("Stackable: applies with others")),
            (Stacking.EXCLUSIVE.value, _("Exclusive: alone, when it gives the most")),
        ],
        initial=Stacking.STACKABLE.value,
        widget=forms.RadioSelect,
    )
    priority = WholeNumberField(
        label=_("Priority"),
        initial=100,
        min_value=-(10**6),
        max_value=10**6,
        help_text=_("Smaller applies first (1 before 10)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    # Sections of the page: (title, fields).
    benefit_fields = (
        "benefit_type", "rate", "amount", "buy", "get", "quantity", "gift_sku", "multiplier",
        "benefit_skus", "benefit_categories", "max_discount",
    )  # fmt: skip
    condition_fields = (
        "min_amount", "min_quantity", "condition_skus", "condition_categories", "tiers",
        "weekdays", "stores", "starts_at", "ends_at", "first_purchase",
    )  # fmt: skip
    wide_fields = ("benefit_categories", "condition_categories", "tiers", "weekdays", "stores")

    def __init__(self, *args: Any, actor: Actor, editing: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.editing = editing
        merchant = actor.merchant
        categories = [
            (c.code, category_label(c))
            for c in Category.objects.filter(merchant=merchant, is_active=True)
        ]
        self.fields["benefit_categories"].choices = categories
        self.fields["condition_categories"].choices = categories
        self.fields["tiers"].choices = [(t.code, t.name) for t in selectors.active_tiers(merchant)]
        self.fields["weekdays"].choices = WEEKDAYS
        active = Store.objects.filter(merchant=merchant, is_active=True).order_by("code")
        self.fields["stores"].choices = [(s.code, s.name) for s in active]
        scope = store_scope(actor)
        if scope is None:
            self.fields["owner"].choices = [("", _("HQ")), *self.fields["stores"].choices]
        else:
            # A store manager's own: their store, and nothing else to choose.
            self.fields["owner"].choices = [(scope.code, scope.name)]
            self.fields["owner"].required = True
            self.fields["owner"].initial = scope.code
            self.fields["stores"].choices = [(scope.code, scope.name)]
            self.fields["stores"].help_text = _("A store's own automatic promotion applies there.")
        if editing is not None:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code cannot change once saved.")
        for name in self.fields:
            self.fields[name].widget.attrs.setdefault("data-field", name)

    # --- the page's sections ---------------------------------------------------------------

    basic_fields: tuple[str, ...] = ("name", "code", "owner")
    stacking_fields = ("stacking", "priority")
    choice_fields = ("benefit_categories", "condition_categories", "tiers", "weekdays", "stores",
                     "stacking", "kind", "validity")  # fmt: skip

    def section_fields(self) -> list[tuple[Any, tuple[str, ...]]]:
        return [
            (_("What"), self.basic_fields),
            (_("Benefit"), self.benefit_fields),
            (_("Condition"), self.condition_fields),
            (_("Stacking and order"), self.stacking_fields),
        ]

    def shown_when(self, name: str) -> str:
        """`control:value value` for fields shown only for some choices (promotion-editor.js)."""
        if name in self.benefit_fields and name != "benefit_type":
            kinds = [kind for kind, used in BENEFIT_FIELDS.items() if name in used]
            return "benefit_type:" + " ".join(kinds)
        return ""

    def sections(self) -> list[tuple[Any, list[tuple[forms.BoundField, str, bool]]]]:
        """(title, [(field, shown when, wide)]) for the template."""
        return [
            (
                title,
                [(self[name], self.shown_when(name), name in self.choice_fields) for name in names],
            )
            for title, names in self.section_fields()
        ]

    # --- from the form to the program file ---------------------------------------------------

    def clean(self) -> dict[str, Any]:
        """An end not after its start, said with the other errors (the schema says it too,
        but only once the rest of the form is valid)."""
        data = super().clean()
        for start, end in (("starts_at", "ends_at"), ("valid_from", "valid_until")):
            first, last = data.get(start), data.get(end)
            if first and last and last <= first and end not in self.errors:
                self.add_error(end, _("Must be later than the start."))
        return data

    def clean_code(self) -> str:
        return self.editing if self.editing is not None else self.cleaned_data["code"].strip()

    def benefit_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["benefit_type"]
        used = BENEFIT_FIELDS.get(kind, ())
        benefit: dict[str, Any] = {"type": kind}
        value_field = VALUE_FIELDS.get(kind)
        if value_field is not None:
            benefit["value"] = data.get(value_field)
        for key, name in (("buy", "buy"), ("get", "get"), ("quantity", "quantity")):
            if name in used and data.get(name) is not None:
                benefit[key] = data[name]
        if "gift_sku" in used:
            benefit["sku"] = data.get("gift_sku", "").strip()
        if "benefit_skus" in used and split_list(data.get("benefit_skus", "")):
            benefit["skus"] = split_list(data["benefit_skus"])
        if "benefit_categories" in used and data.get("benefit_categories"):
            benefit["categories"] = list(data["benefit_categories"])
        if "max_discount" in used and data.get("max_discount"):
            benefit["max_discount"] = data["max_discount"]
        # A value the form left empty stays out: the schema says it is required.
        return {key: value for key, value in benefit.items() if value not in (None, "")}

    def condition_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        condition: dict[str, Any] = {}
        if data.get("min_amount"):
            condition["min_amount"] = data["min_amount"]
        if data.get("min_quantity") is not None:
            condition["min_quantity"] = data["min_quantity"]
        if split_list(data.get("condition_skus", "")):
            condition["skus"] = split_list(data["condition_skus"])
        for key, name in (("categories", "condition_categories"), ("tiers", "tiers"),
                          ("stores", "stores")):  # fmt: skip
            if data.get(name):
                condition[key] = list(data[name])
        if data.get("weekdays"):
            condition["weekdays"] = [int(day) for day in data["weekdays"]]
        for key in ("starts_at", "ends_at"):
            if data.get(key):
                condition[key] = timezone.localtime(data[key]).isoformat()
        if data.get("first_purchase"):
            condition["first_purchase"] = True
        return condition

    def to_row(self) -> dict[str, Any]:
        """The row as the program file writes it (call after is_valid())."""
        raise NotImplementedError

    def _common_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        row = {"code": data["code"], "name": data["name"].strip()}
        if data.get("owner"):
            row["owner"] = data["owner"]
        return row

    # --- from the program file to the form ---------------------------------------------------

    @classmethod
    def initial_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        benefit = row.get("benefit", {})
        condition = row.get("condition", {})
        kind = benefit.get("type", "percent")
        initial: dict[str, Any] = {
            "code": row.get("code", ""),
            "name": row.get("name", ""),
            "owner": row.get("owner", ""),
            "benefit_type": kind,
            "stacking": row.get("stacking", Stacking.STACKABLE.value),
            "priority": row.get("priority", 100),
        }
        value_field = VALUE_FIELDS.get(kind)
        if value_field == "rate":
            initial["rate"] = rate_text(benefit.get("value", 0))
        elif value_field == "amount":
            initial["amount"] = yuan_plain(benefit.get("value"))
        elif value_field == "multiplier":
            initial["multiplier"] = str(benefit.get("value", ""))
        for key in ("buy", "get", "quantity"):
            if key in benefit:
                initial[key] = benefit[key]
        initial["gift_sku"] = benefit.get("sku", "")
        initial["benefit_skus"] = ", ".join(benefit.get("skus", []))
        initial["benefit_categories"] = benefit.get("categories", [])
        if benefit.get("max_discount"):
            initial["max_discount"] = yuan_plain(benefit["max_discount"])
        if condition.get("min_amount"):
            initial["min_amount"] = yuan_plain(condition["min_amount"])
        initial["min_quantity"] = condition.get("min_quantity")
        initial["condition_skus"] = ", ".join(condition.get("skus", []))
        initial["condition_categories"] = condition.get("categories", [])
        initial["tiers"] = condition.get("tiers", [])
        initial["weekdays"] = [str(day) for day in condition.get("weekdays", [])]
        initial["stores"] = condition.get("stores", [])
        for key in ("starts_at", "ends_at"):
            if condition.get(key):
                initial[key] = local_input(dt.datetime.fromisoformat(condition[key]))
        initial["first_purchase"] = bool(condition.get("first_purchase"))
        return initial

    # --- the schema's refusals on the fields -------------------------------------------------

    def field_for_path(self, path: str) -> str | None:
        """The field showing a refusal at `path` below the row (None: above the form)."""
        bare = re.sub(r"\[\d+\]", "", path)
        if bare == "benefit.value":
            return VALUE_FIELDS.get(self.cleaned_data.get("benefit_type", ""))
        if bare in PATH_FIELDS:
            return PATH_FIELDS[bare]
        return bare if bare in self.fields else None

    def worded(self, path: str, message: str) -> str:
        """A schema refusal as the form says it (the schema speaks of the file's keys)."""
        return message

    def add_row_errors(self, errors: list[RowError], others: list[str]) -> None:
        for error in errors:
            name = self.field_for_path(error.path)
            if name is not None and name in self.fields and name not in self.errors:
                self.add_error(name, self.worded(error.path, error.message))
            elif name is not None and name in self.fields:
                continue  # one message per field is enough
            else:
                self.add_error(None, self.worded(error.path, error.message))
        for message in others:
            self.add_error(None, message)


class PromotionForm(RuleForm):
    section = "promotions"
    kind = forms.ChoiceField(
        label=_("Applies"),
        choices=[
            (Promotion.Kind.AUTOMATIC.value, _("By itself, on every sale that qualifies")),
            (Promotion.Kind.CODE.value, _("When the customer gives its code at the till")),
        ],
        initial=Promotion.Kind.AUTOMATIC.value,
        widget=forms.RadioSelect,
    )
    members_only = forms.BooleanField(label=_("Members only"), required=False)
    basic_fields = ("name", "code", "owner", "kind")
    condition_fields = ("members_only", *RuleForm.condition_fields)

    field_order = ["name", "code", "kind"]

    def to_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        row = {**self._common_row(), "kind": data["kind"]}
        if data.get("members_only"):
            row["members_only"] = True
        condition = self.condition_row()
        if condition:
            row["condition"] = condition
        row["benefit"] = self.benefit_row()
        row["stacking"] = data["stacking"]
        row["priority"] = data["priority"]
        return row

    @classmethod
    def initial_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_row(row)
        initial["kind"] = row.get("kind", Promotion.Kind.AUTOMATIC.value)
        initial["members_only"] = bool(row.get("members_only"))
        return initial


class CouponTemplateForm(RuleForm):
    section = "coupon_templates"
    validity = forms.ChoiceField(
        label=_("Valid"),
        choices=[
            ("days", _("For a number of days after issue")),
            ("window", _("Between two dates")),
        ],
        initial="days",
        widget=forms.RadioSelect,
    )
    valid_days = _whole(_("Days"))
    valid_from = _date_time_field(_("Valid from"))
    valid_until = _date_time_field(_("Valid until"), _("Not included."))
    per_member_limit = _whole(_("Per member at most"), _("Empty: no limit."))
    stock = _whole(_("Stock"), _("Coupons that may be issued in all; empty: no limit."))
    validity_fields = ("validity", "valid_days", "valid_from", "valid_until", "per_member_limit",
                       "stock")  # fmt: skip

    field_order = ["name", "code"]

    def section_fields(self) -> list[tuple[Any, tuple[str, ...]]]:
        return [*super().section_fields(), (_("Validity and stock"), self.validity_fields)]

    def shown_when(self, name: str) -> str:
        if name == "valid_days":
            return "validity:days"
        if name in ("valid_from", "valid_until"):
            return "validity:window"
        return super().shown_when(name)

    def to_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        row = self._common_row()
        row["benefit"] = self.benefit_row()
        condition = self.condition_row()
        if condition:
            row["condition"] = condition
        row["stacking"] = data["stacking"]
        row["priority"] = data["priority"]
        if data["validity"] == "days":
            if data.get("valid_days") is not None:
                row["valid_days"] = data["valid_days"]
        else:
            for key in ("valid_from", "valid_until"):
                if data.get(key):
                    row[key] = timezone.localtime(data[key]).isoformat()
        for key in ("per_member_limit", "stock"):
            if data.get(key) is not None:
                row[key] = data[key]
        return row

    @classmethod
    def initial_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_row(row)
        initial["validity"] = "window" if "valid_from" in row else "days"
        initial["valid_days"] = row.get("valid_days")
        for key in ("valid_from", "valid_until"):
            if row.get(key):
                initial[key] = local_input(dt.datetime.fromisoformat(row[key]))
        initial["per_member_limit"] = row.get("per_member_limit")
        initial["stock"] = row.get("stock")
        return initial

    def worded(self, path: str, message: str) -> str:
        if path == "":  # the schema names valid_days / valid_from / valid_until
            return str(_("Say how long coupons are valid: a number of days, or two dates."))
        return message

    def field_for_path(self, path: str) -> str | None:
        if path == "" and self.cleaned_data.get("validity") == "days":
            return "valid_days"
        if path == "" and self.cleaned_data.get("validity") == "window":
            return "valid_from"
        return super().field_for_path(path)


# --- the example basket ------------------------------------------------------------------------


class ExampleForm(ConsoleForm):
    """The preview's example sale: up to EXAMPLE_LINES + 2 lines, who buys, where, when."""

    member = forms.ChoiceField(label=_("Customer"), required=False)
    store = forms.ChoiceField(label=_("Store"), required=False)
    at = _date_time_field(_("Sale time"))
    first_purchase = forms.BooleanField(label=_("First purchase"), required=False)

    rows = EXAMPLE_LINES + 2

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, prefix="example", **kwargs)
        merchant = actor.merchant
        self.fields["member"].choices = [("", _("Walk-in customer (not a member)"))] + [
            (t.code, _("Member: %s") % t.name) for t in selectors.active_tiers(merchant)
        ]
        self.fields["store"].choices = [
            (s.code, s.name)
            for s in Store.objects.filter(merchant=merchant, is_active=True).order_by("code")
        ]
        categories = [("", "—")] + [
            (c.code, category_label(c))
            for c in Category.objects.filter(merchant=merchant, is_active=True)
        ]
        # A category the example already holds (sold under an ended category) stays choosable.
        known = {code for code, _label in categories}
        for name in dict.fromkeys(self._category_values()):
            if name not in known:
                categories.append((name, name))
        for index in range(self.rows):
            self.fields[f"sku_{index}"] = forms.CharField(required=False, max_length=64)
            self.fields[f"category_{index}"] = forms.ChoiceField(required=False, choices=categories)
            self.fields[f"quantity_{index}"] = _whole("", min_value=1, max_value=10**6)
            self.fields[f"price_{index}"] = AmountField(required=False, maximum=10**10)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-example", name)

    def _category_values(self) -> list[str]:
        names = [f"{self.prefix}-category_{index}" for index in range(self.rows)]
        found = [self.data.get(name, "") for name in names] if self.is_bound else []
        found += [self.initial.get(f"category_{index}", "") for index in range(self.rows)]
        return [str(value) for value in found if value and CATEGORY_SHAPE.fullmatch(str(value))]

    @staticmethod
    def initial_for(lines: list[ExampleLine], at: dt.datetime) -> dict[str, Any]:
        initial: dict[str, Any] = {"at": local_input(at)}
        for index, line in enumerate(lines):
            initial[f"sku_{index}"] = line.sku
            initial[f"category_{index}"] = line.category
            initial[f"quantity_{index}"] = line.quantity
            initial[f"price_{index}"] = yuan_plain(line.unit_price)
        return initial

    def line_rows(self) -> list[tuple[forms.BoundField, ...]]:
        return [
            tuple(self[f"{name}_{index}"] for name in ("sku", "category", "quantity", "price"))
            for index in range(self.rows)
        ]

    def lines(self) -> list[tuple[str, str, int, int]]:
        """(sku, category, quantity, unit price) of each line filled in."""
        data, found = self.cleaned_data, []
        for index in range(self.rows):
            sku = (data.get(f"sku_{index}") or "").strip()
            price = data.get(f"price_{index}")
            if not sku or price is None:
                continue
            quantity = data.get(f"quantity_{index}") or 1
            found.append((sku, (data.get(f"category_{index}") or "").strip(), quantity, price))
        return found
