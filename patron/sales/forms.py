"""What the cashier screen posts (F-50): the till's basket, a new SKU, a refund.

The till keeps its whole state in the page: hidden inputs for the lines, the member and the
codes, visible inputs for what the cashier types. Every request posts all of it; the server
applies one operation, prices the result with `patron.sales.services.price` and renders the
till again, so nothing is ever priced in the browser and a reload loses nothing that matters.
Money typed in yuan becomes integer fen through `patron.core.forms.parse_yuan` (Decimal,
never a float; a third decimal is refused, not rounded).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest, QueryDict
from django.utils.timezone import get_current_timezone as zone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.errors import DomainError
from patron.core.forms import RefuseNulMixin, WholeNumberField, YuanField, parse_yuan
from patron.core.text import INT64_MAX, nfkc, parse_int
from patron.engine.pricing import normalize_code
from patron.sales import selectors, services
from patron.sales.models import Sale, SaleLine
from patron.tenancy import logins
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Staff

MAX_TILL_LINES = services.MAX_LINES
MAX_QUANTITY = services.MAX_QUANTITY
MAX_CODES = services.MAX_CODES
# "3*6901234567890": a quantity typed before the barcode, as Chinese tills accept it.
SCAN_WITH_QUANTITY = re.compile(r"(?P<quantity>[0-9]{1,5})\s*[*xX×]\s*(?P<sku>.+)")
# The field a service's error names for a line of the sale: "lines[2]", "lines[2].quantity".
LINE_FIELD = re.compile(r"lines\[(?P<index>[0-9]+)\]")


def clean_text(raw: Any, limit: int) -> str:
    """Full-width characters from Chinese input methods read as their ASCII forms (NFKC).

    A value holding a NUL byte reads as empty: no keyboard or scanner types one, and PostgreSQL
    refuses it in text (a hidden line without a SKU is dropped and counted, like any unreadable
    line).
    """
    text = str(raw or "")
    return "" if "\x00" in text else nfkc(text).strip()[:limit]


def one_time_key(raw: Any) -> str:
    """The posted key when it is a uuid4, else a fresh one (a tampered or missing key must not
    name somebody else's sale)."""
    try:
        return str(uuid.UUID(str(raw or ""), version=4))
    except ValueError:
        return str(uuid.uuid4())


def parse_count(raw: Any, *, low: int, high: int) -> int | None:
    """A whole number in [low, high] typed by a person (ASCII or full-width digits), or None."""
    text = clean_text(raw, 12)
    return parse_int(text, low=low, high=high) if not text.startswith("-") else None


def parse_scan(raw: Any) -> tuple[str, int]:
    """What the scanner (or the cashier) typed -> (SKU, quantity); '' when there is nothing."""
    text = clean_text(raw, 80)
    match = SCAN_WITH_QUANTITY.fullmatch(text)
    if match and 0 < int(match["quantity"]) <= MAX_QUANTITY:
        return match["sku"].strip()[:64], int(match["quantity"])
    return text[:64], 1


# --- the basket as posted --------------------------------------------------------------------


@dataclass
class TillLine:
    sku: str
    category: str
    unit_price: int  # fen
    quantity: int
    name: str = ""
    typed_quantity: str | None = None  # what was typed when it was not a valid quantity

    def as_input(self) -> services.LineInput:
        return services.LineInput(
            sku=self.sku,
            category=self.category,
            quantity=self.quantity,
            unit_price=self.unit_price,
            name=self.name,
        )


@dataclass
class Till:
    """One basket at the till, as the page posted it."""

    key: str
    store: str = ""  # store code; empty for store-bound staff (the service uses their store)
    member: int | None = None
    lines: list[TillLine] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    points: int = 0
    stored_value: int = 0  # fen
    pin: str = ""
    typed: dict[str, str] = field(default_factory=dict)  # raw text of fields that were wrong
    errors: dict[str, str] = field(default_factory=dict)  # field -> message
    line_errors: dict[int, list[str]] = field(default_factory=dict)
    dropped_lines: int = 0  # hidden line fields that could not be read
    selected: int | None = None  # the line "−", "+", Change and Remove act on
    removed: tuple[int, TillLine] | None = None  # the line last removed, for Undo

    @classmethod
    def empty(cls, store: str = "") -> Till:
        return cls(key=str(uuid.uuid4()), store=store)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.line_errors)

    def request(self) -> services.SaleRequest:
        return services.SaleRequest(
            lines=[line.as_input() for line in self.lines],
            member=self.member,
            store=self.store or None,
            codes=list(self.codes),
            points_to_redeem=self.points,
            stored_value=self.stored_value,
            pin=self.pin or None,
        )

    # -- the selected line and the undo of a removal -----------------------------------------

    def select(self, index: Any) -> None:
        """Select line `index` (an int or its text); anything else selects the last line."""
        number = index if isinstance(index, int) else parse_count(index, low=0, high=MAX_TILL_LINES)
        if number is not None and 0 <= number < len(self.lines):
            self.selected = number
        else:
            self.selected = len(self.lines) - 1 if self.lines else None

    def removed_data(self) -> str:
        """The removed line as the page keeps it (a hidden field): JSON, or ''."""
        if self.removed is None:
            return ""
        index, line = self.removed
        return json.dumps(
            {
                "index": index,
                "sku": line.sku,
                "category": line.category,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "name": line.name,
            },
            ensure_ascii=False,
        )

    def restore_removed(self, raw: Any) -> None:
        """Read back what `removed_data` wrote; anything else means nothing to undo."""
        try:
            data = json.loads(raw) if isinstance(raw, str) and raw else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return
        index = data.get("index")
        price, quantity = data.get("unit_price"), data.get("quantity")
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (index, price, quantity))
        if not ints or not (0 < price <= INT64_MAX and 0 < quantity <= MAX_QUANTITY):
            return
        sku = clean_text(data.get("sku"), 64)
        if not sku or not 0 <= index <= MAX_TILL_LINES:
            return
        line = TillLine(
            sku=sku,
            category=clean_text(data.get("category"), 40),
            unit_price=price,
            quantity=quantity,
            name=clean_text(data.get("name"), 100),
        )
        self.removed = (index, line)

    # -- changes the operations make ----------------------------------------------------------

    def add_line(self, line: TillLine) -> int:
        """Add a line, or more of the same SKU to the line that has it; its index."""
        for index, existing in enumerate(self.lines):
            if existing.sku == line.sku:
                existing.quantity = min(existing.quantity + line.quantity, MAX_QUANTITY)
                existing.category, existing.unit_price = line.category, line.unit_price
                existing.name = line.name or existing.name
                return index
        self.lines.append(line)
        return len(self.lines) - 1

    def add_code(self, code: str) -> bool:
        """Add a code unless it is there already (case, spaces and dashes do not matter)."""
        wanted = normalize_code(code)
        if not wanted or any(normalize_code(known) == wanted for known in self.codes):
            return False
        self.codes.append(code)
        return True

    def forget_member(self) -> None:
        """Points and stored value belong to the member: a walk-in pays neither."""
        self.member, self.points, self.stored_value, self.pin = None, 0, 0, ""
        self.errors.pop("points", None)
        self.errors.pop("stored_value", None)


def _hidden_lines(data: QueryDict, till: Till) -> None:
    skus = data.getlist("line_sku")
    categories = data.getlist("line_category")
    prices = data.getlist("line_price")
    names = data.getlist("line_name")
    quantities = data.getlist("line_qty")
    for index, sku in enumerate(skus[:MAX_TILL_LINES]):
        # The page wrote these hidden fields in ASCII; anything else was not written by it.
        # (A price above the limit is the service's to refuse, next to the line.)
        raw_price = prices[index] if index < len(prices) else None
        price = parse_int(raw_price, low=1, high=INT64_MAX, fullwidth=False)
        if index >= len(categories) or price is None:
            till.dropped_lines += 1
            continue
        category = categories[index]
        sku = clean_text(sku, 64)
        if not sku:
            till.dropped_lines += 1
            continue
        raw_quantity = quantities[index] if index < len(quantities) else "1"
        quantity = parse_count(raw_quantity, low=1, high=MAX_QUANTITY)
        line = TillLine(
            sku=sku,
            category=clean_text(category, 40),
            unit_price=price,
            quantity=quantity or 1,
            name=clean_text(names[index] if index < len(names) else "", 100),
        )
        if quantity is None:
            line.typed_quantity = clean_text(raw_quantity, 12)
            till.line_errors[len(till.lines)] = [
                _("The quantity must be a whole number from 1 to %(max)d.") % {"max": MAX_QUANTITY}
            ]
        till.lines.append(line)


def _typed_amounts(data: QueryDict, till: Till) -> None:
    raw_points = clean_text(data.get("points"), 12)
    if raw_points:
        points = parse_count(raw_points, low=0, high=services.MAX_PRICE)
        if points is None:
            till.typed["points"] = raw_points
            till.errors["points"] = _("Points are a whole number, 0 or more.")
        else:
            till.points = points
    raw_value = clean_text(data.get("stored_value"), 24)
    if raw_value:
        try:
            till.stored_value = parse_yuan(raw_value)
        except forms.ValidationError as problem:
            till.typed["stored_value"] = raw_value
            till.errors["stored_value"] = " ".join(problem.messages)


def read_till(data: QueryDict) -> Till:
    """The basket the page posted. Hidden fields that cannot be read are dropped (counted);
    what the cashier typed wrong is kept, with a message, for the page to show again."""
    till = Till(key=one_time_key(data.get("key")), store=clean_text(data.get("store"), 32))
    # A hidden field the page wrote (the identified member's id): ASCII digits or nobody.
    till.member = parse_int(data.get("member"), low=1, high=INT64_MAX, fullwidth=False)
    _hidden_lines(data, till)
    for code in data.getlist("code")[:MAX_CODES]:
        code = clean_text(code, 64)
        if code:
            till.add_code(code)
    if till.member is not None:
        _typed_amounts(data, till)
    till.pin = clean_text(data.get("pin"), 12)
    till.select(data.get("selected"))
    till.restore_removed(data.get("removed"))
    return till


# --- the pages' query ------------------------------------------------------------------------


class StoreQuery(RefuseNulMixin, forms.Form):
    """`?store=CODE` (where HQ sells; `all` on today's sales) and `?pick=1` (choose again)."""

    store = forms.CharField(required=False, max_length=32)
    pick = forms.CharField(required=False, max_length=8)

    def given(self) -> bool:
        """Whether a store was asked for at all (a bad value too: it picks no store)."""
        return bool(self.data.get("store"))

    def store_code(self) -> str:
        """The store code asked for; empty when none was or when it cannot be one."""
        return clean_text(self.cleaned_data["store"], 32) if self.is_valid() else ""

    def wants_to_pick(self) -> bool:
        return bool(self.data.get("pick"))


# --- a new SKU -------------------------------------------------------------------------------


def category_choices(actor: Actor) -> list[tuple[str, str]]:
    codes = selectors.category_codes(actor)
    return [("", _("— Choose —"))] + [(code, code) for code in codes]


class ItemForm(RefuseNulMixin, forms.Form):
    """A SKU the till has not seen in this session: what it is and what it costs."""

    item_sku = forms.CharField(
        label=gettext_lazy("SKU / barcode"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "item-sku"}),
    )
    item_category = forms.ChoiceField(
        label=gettext_lazy("Category"), widget=forms.Select(attrs={"id": "item-category"})
    )
    item_price = YuanField(
        label=gettext_lazy("Unit price (yuan)"),
        maximum=services.MAX_PRICE,
        error_messages={
            "not_positive": gettext_lazy("The price must be above 0."),
            "too_much": gettext_lazy("This price is too high."),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "id": "item-price"}
        ),
    )
    item_qty = WholeNumberField(
        label=gettext_lazy("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"id": "item-qty", "min": 1, "step": 1}),
    )
    item_name = forms.CharField(
        label=gettext_lazy("Name (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "item-name"}),
    )
    # Which line the form edits; empty for a new one.
    item_index = WholeNumberField(
        required=False, min_value=0, max_value=MAX_TILL_LINES, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item_category"].choices = category_choices(actor)
        for field_ in self.fields.values():
            # Enter in any of the inputs saves the line (the till's script reads this).
            field_.widget.attrs["data-enter"] = "add_item"

    def clean_item_sku(self) -> str:
        sku = clean_text(self.cleaned_data["item_sku"], 64)
        if not sku:
            raise forms.ValidationError(_("A SKU is required."))
        return sku

    def line(self) -> TillLine:
        data = self.cleaned_data
        return TillLine(
            sku=data["item_sku"],
            category=data["item_category"],
            unit_price=data["item_price"],
            quantity=data["item_qty"],
            name=clean_text(data.get("item_name"), 100),
        )

    @property
    def first_error_id(self) -> str:
        for name in self.fields:
            if name in self.errors:
                return self.fields[name].widget.attrs.get("id", "item-sku")
        return "item-category"


# --- refunds ---------------------------------------------------------------------------------


class RefundForm(RefuseNulMixin, forms.Form):
    """Quantities to refund per line of a sale (0: keep), or everything left."""

    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "refund-reason"}),
    )
    key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, sale: Sale, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sale = sale
        self.sale_lines: list[SaleLine] = list(sale.lines.order_by("position"))
        for line in self.sale_lines:
            left = line.quantity - line.refunded_quantity
            if left <= 0:
                continue
            # No max here: asking for more than was sold is the service's to refuse, and the
            # refusal names the line.
            self.fields[self.quantity_name(line)] = WholeNumberField(
                label=line.sku,
                min_value=0,
                required=False,
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": left, "step": 1, "id": f"refund-qty-{line.position}"}
                ),
            )

    @staticmethod
    def quantity_name(line: SaleLine) -> str:
        return f"qty_{line.position}"

    def quantity_field(self, line: SaleLine) -> forms.BoundField | None:
        name = self.quantity_name(line)
        return self[name] if name in self.fields else None

    def key_value(self) -> str:
        return one_time_key(self.data.get("key") if self.is_bound else None)

    def ask(self, everything: bool) -> services.RefundAsk:
        """The refund asked for; call after is_valid()."""
        reason = self.cleaned_data.get("reason") or ""
        if everything:
            return services.RefundAsk(all=True, reason=reason)
        picked = []
        for line in self.sale_lines:
            quantity = self.cleaned_data.get(self.quantity_name(line)) or 0
            if quantity:
                picked.append((line.sku, quantity))
        if not picked:
            raise forms.ValidationError(_("Enter a quantity to refund on at least one line."))
        return services.RefundAsk(lines=tuple(picked), reason=reason)

    def place_problem(self, ask: services.RefundAsk, problem: DomainError) -> None:
        """The service's refusal on the form; a line's error next to that line's quantity."""
        self.add_error(None, str(problem.detail))
        for error in problem.errors or []:
            match = LINE_FIELD.match(error.field)
            if not match or int(match["index"]) >= len(ask.lines):
                continue
            sku = ask.lines[int(match["index"])][0]
            for line in self.sale_lines:
                name = self.quantity_name(line)
                if line.sku == sku and name in self.fields:
                    self.add_error(name, str(error.message))
                    break


# --- a store manager's approval of a large refund --------------------------------------------


def approvers(sale: Sale) -> list[Staff]:
    """Who may approve a refund of this sale: the store's managers, then HQ, by name."""
    staff = Staff.objects.select_related("user").filter(
        merchant_id=sale.merchant_id, is_active=True, user__is_active=True
    )
    managers = staff.filter(role=Role.STORE_MANAGER, store_id=sale.store_id)
    hq = staff.filter(role=Role.HQ_ADMIN)
    return sorted(managers, key=staff_label) + sorted(hq, key=staff_label)


def staff_label(staff: Staff) -> str:
    return staff.user.get_full_name() or staff.user.get_username()


class ApprovalForm(RefuseNulMixin, forms.Form):
    """A store manager (or HQ) approves a refund above the store's limit at the till by
    choosing their name and typing their own log-in password.

    The password goes through `authenticate`, so django-axes counts failures here as on the
    log-in page: five wrong passwords lock that manager's log-in for the cool-off, and a
    cashier cannot try passwords without end.
    """

    approve = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)
    manager = forms.TypedChoiceField(
        label=gettext_lazy("Store manager"),
        coerce=int,
        widget=forms.Select(attrs={"id": "approve-manager"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Their password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(
            attrs={"id": "approve-password", "autocomplete": "off"}, render_value=False
        ),
    )

    def __init__(self, *args: Any, sale: Sale, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.people = {staff.pk: staff for staff in approvers(sale)}
        self.fields["manager"].choices = [("", _("— Choose —"))] + [
            (pk, f"{staff_label(staff)} · {staff.get_role_display()}")
            for pk, staff in self.people.items()
        ]
        self.fields["manager"].widget.attrs["autofocus"] = True
        self.approver: Staff | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        staff = self.people.get(data.get("manager") or 0)
        password = data.get("password")
        if staff is None or not password:
            return data
        username = staff.user.get_username()
        self.refuse_when_locked(staff)
        user = authenticate(self.request, username=username, password=password)
        if getattr(self.request, "axes_locked_out", False):
            # This failure locked the log-in: the refund page says so itself; axes' middleware
            # would otherwise answer with the log-in page.
            self.request.axes_locked_out = False
            self.refuse_when_locked(staff)
        if user is None or user.pk != staff.user_id:
            raise forms.ValidationError(
                _("Wrong password for %(name)s: nothing was refunded.")
                % {"name": staff_label(staff)}
            )
        self.approver = staff
        return data

    def refuse_when_locked(self, staff: Staff) -> None:
        """A manager whose log-in is locked (too many wrong passwords, here or on the log-in
        page) cannot approve until the lock ends: no password is even tried."""
        ip = getattr(self.request, "axes_ip_address", None)
        until = logins.locked_until(staff.user.get_username(), ip)
        if until is not None:
            raise forms.ValidationError(
                _("%(name)s cannot approve now: %(lock)s")
                % {"name": staff_label(staff), "lock": logins.lock_message(until, zone())}
            )
