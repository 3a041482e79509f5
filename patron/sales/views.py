"""The cashier screen (F-50): sell at the till, print the receipt, refund from it.

The till is one page whose basket lives in the page itself (see `patron.sales.forms`). Every
key the cashier presses that changes the basket posts the whole basket to `quote`, which
applies one operation (scan, identify, add a code, ...), prices the result on the server with
`services.price` and answers with the till's state re-rendered; the page's script only sends
requests one at a time and moves the focus. `commit` records the sale with
`services.commit_sale` under the one-time key rendered with the basket, so a double submit or
a retry is one sale. Domain errors come back onto the till, never as a 500.

Who may sell: HQ admins (in the store they choose), store managers and cashiers (in their own
store, which the services enforce). Marketers get the 403 page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from patron.core.errors import DomainError, NotFound
from patron.core.htmx import htmx_redirect, wants_fragment
from patron.core.money import yuan
from patron.engine import pricing
from patron.ledger import selectors as ledger_selectors
from patron.ledger.models import Asset
from patron.ledger.services import quick_balances
from patron.members.models import Member
from patron.members.selectors import shown_mobile
from patron.members.validation import mask_mobile
from patron.promotions import selectors as promotions
from patron.promotions.codes import display_code
from patron.sales import selectors, services
from patron.sales.forms import (
    MAX_CODES,
    MAX_TILL_LINES,
    ItemForm,
    RefundForm,
    Till,
    TillLine,
    clean_text,
    parse_count,
    parse_scan,
    read_till,
)
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import active_stores

SELLING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
may_sell = require_role(*SELLING_ROLES)

STORE_CHOICE = "sales.store"  # session: the store an HQ admin sells in
SKU_MEMORY = "sales.skus"  # session: SKUs typed at this till, per merchant
SKU_MEMORY_SIZE = 500
COUPONS_SHOWN = 12
SCAN = "scan-input"
LINE_FIELD = re.compile(r"lines\[(?P<index>[0-9]+)\]")

# The engine's reasons for not applying a code (patron.engine.pricing), in words.
REJECTION_REASONS: dict[str, Callable[[], str]] = {
    pricing.UNKNOWN_CODE: lambda: _("No promotion or coupon has this code."),
    pricing.COUPON_USED: lambda: _("This coupon has been used already."),
    pricing.COUPON_EXPIRED: lambda: _("This coupon has expired."),
    pricing.COUPON_NOT_YET_VALID: lambda: _("This coupon is not valid yet."),
    pricing.COUPON_OTHER_MEMBER: lambda: _("This coupon belongs to another member."),
    pricing.MEMBERS_ONLY: lambda: _("For members only: identify the member first."),
    pricing.CONDITION_NOT_MET: lambda: _("This basket does not meet its conditions."),
    pricing.NOT_COMBINABLE: lambda: _("Cannot be combined with the other offers on this sale."),
    pricing.DUPLICATE_CODE: lambda: _("This code is on the sale twice."),
    pricing.NO_DISCOUNT: lambda: _("Gives no discount on this basket."),
}


def rejection_reason(reason: str) -> str:
    explain = REJECTION_REASONS.get(reason)
    return explain() if explain else reason


# --- requests and responses ------------------------------------------------------------------


def sale_or_404(actor: Actor, pk: Any) -> Sale:
    try:
        return selectors.sale_for(actor, pk)
    except NotFound:
        raise Http404(_("Sale not found")) from None


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


# --- the store an HQ admin sells in ----------------------------------------------------------


def chosen_store(request: HttpRequest) -> Store | None:
    """The store-bound role's own store; for HQ the one picked (?store=) or remembered."""
    actor: Actor = request.actor
    if actor.store_bound is not None:
        return actor.store_bound
    stores = active_stores(actor.merchant)
    picked = clean_text(request.GET.get("store"), 32)
    if picked:
        store = stores.filter(code=picked).first()
        if store is not None:
            request.session[STORE_CHOICE] = store.code
        return store
    remembered = request.session.get(STORE_CHOICE)
    return stores.filter(code=remembered).first() if remembered else None


# --- SKUs remembered in this session ---------------------------------------------------------


class SkuMemory:
    """SKUs typed at this till in this login session: a second scan needs no typing.

    There is no product catalogue yet; the session is the till's short memory of what the
    cashier already told it (per merchant, newest last, at most SKU_MEMORY_SIZE).
    """

    def __init__(self, request: HttpRequest) -> None:
        self.session = request.session
        self.scope = str(request.actor.merchant.pk)

    def _items(self) -> dict[str, list[Any]]:
        return self.session.get(SKU_MEMORY, {}).get(self.scope, {})

    def recall(self, sku: str, quantity: int) -> TillLine | None:
        known = self._items().get(sku)
        if not known:
            return None
        category, unit_price, name = known
        return TillLine(sku, category, unit_price, quantity, name)

    def remember(self, line: TillLine) -> None:
        everything = self.session.get(SKU_MEMORY, {})
        items = dict(everything.get(self.scope, {}))
        items.pop(line.sku, None)
        items[line.sku] = [line.category, line.unit_price, line.name]
        while len(items) > SKU_MEMORY_SIZE:
            items.pop(next(iter(items)))
        everything[self.scope] = items
        self.session[SKU_MEMORY] = everything


# --- what the till shows ---------------------------------------------------------------------


@dataclass
class CouponRow:
    code: str
    shown: str  # grouped for reading
    name: str
    valid_until: dt.datetime


@dataclass
class MemberPanel:
    member: Member
    mobile: str
    tier: Any
    points: int
    stored_value: int
    coupons: list[CouponRow]


@dataclass
class Step:
    """What one operation did, for the page: where the focus goes and what to show."""

    focus: str = SCAN
    item_form: ItemForm | None = None
    member_error: str = ""
    member_typed: str = ""
    code_typed: str = ""
    notice: str = ""
    problem: DomainError | None = None
    points_to_max: bool = False
    pay_all: bool = False


@dataclass
class LineRow:
    index: int
    line: TillLine
    priced: pricing.PricedLine | None
    errors: list[str] = field(default_factory=list)


@dataclass
class CodeRow:
    index: int
    code: str
    amount: int | None = None  # applied: fen off
    name: str = ""
    reason: str = ""  # rejected: why


def member_panel(actor: Actor, till: Till) -> tuple[MemberPanel | None, str]:
    """The identified member with balances and coupons; a message when it is gone."""
    if till.member is None:
        return None, ""
    try:
        member = services.identify_member(actor, till.member)
    except DomainError:
        till.forget_member()
        return None, _("The member is no longer available: identify them again.")
    balances = quick_balances(member)
    coupons = [
        CouponRow(
            code=coupon.code,
            shown=display_code(coupon.code),
            name=coupon.template.name,
            valid_until=coupon.valid_until,
        )
        for coupon in promotions.member_coupons(member, status="available")[:COUPONS_SHOWN]
    ]
    panel = MemberPanel(
        member=member,
        mobile=shown_mobile(actor, member),
        tier=promotions.member_tier(member),
        points=balances[Asset.POINTS],
        stored_value=balances[Asset.PRINCIPAL] + balances[Asset.BONUS],
        coupons=coupons,
    )
    return panel, ""


def short_of_points(till: Till, panel: MemberPanel) -> None:
    till.errors["points"] = _("The member has only %(points)s points.") % {
        "points": f"{panel.points:,}"
    }


def short_of_stored_value(till: Till, panel: MemberPanel) -> None:
    till.errors["stored_value"] = _("The card holds only %(amount)s.") % {
        "amount": yuan(panel.stored_value)
    }


def place_problem(till: Till, problem: DomainError, panel: MemberPanel | None) -> list[str]:
    """Put a service's refusal next to the input it is about; what fits nowhere is returned."""
    code = problem.code
    if code == "insufficient_points" and panel is not None:
        short_of_points(till, panel)
        return []
    if code == "insufficient_balance" and panel is not None:
        # The service's own message says what it could not take, not what the card holds.
        short_of_stored_value(till, panel)
        return []
    if code.startswith("pin_"):
        till.errors["pin"] = str(problem.detail)
        return []
    if code in ("member_frozen", "qr_expired", "qr_invalid"):
        till.errors["member"] = str(problem.detail)
        return []
    if code == "coupon_not_applicable":
        till.errors["codes"] = _("Remove the codes that cannot be used, then confirm again.")
        return []
    general = []
    for error in problem.errors or []:
        match = LINE_FIELD.match(error.field)
        if match and int(match["index"]) < len(till.lines):
            till.line_errors.setdefault(int(match["index"]), []).append(str(error.message))
        elif error.field in ("points_to_redeem", "stored_value", "pin", "codes"):
            till.errors[error.field.replace("points_to_redeem", "points")] = str(error.message)
        else:
            general.append(str(error.message))
    if not problem.errors:
        general.append(str(problem.detail))
    return general


def code_rows(till: Till, quote: pricing.Quote | None) -> list[CodeRow]:
    rows = []
    applied = {pricing.normalize_code(a.code): a for a in quote.applied} if quote else {}
    rejected = {r.code: r.reason for r in quote.rejected} if quote else {}
    for index, code in enumerate(till.codes):
        row = CodeRow(index, code)
        found = applied.get(pricing.normalize_code(code))
        if found is not None:
            row.amount, row.name = found.amount, found.name
        elif code in rejected:
            row.reason = rejection_reason(rejected[code])
        rows.append(row)
    return rows


def max_redeemable(actor: Actor, till: Till, panel: MemberPanel | None) -> int | None:
    """The most points this basket may take: the engine's answer when asked for all of them."""
    if panel is None or not till.lines or panel.points <= 0:
        return None
    request = replace(till.request(), points_to_redeem=panel.points, stored_value=0)
    try:
        return services.price(actor, request).quote.points_redeemed
    except DomainError:
        return None


def price_till(actor: Actor, till: Till, panel: MemberPanel | None, step: Step):
    """Price the basket (nothing written); a refusal is placed on the page instead."""
    if not till.lines or till.has_errors:
        return None, []
    try:
        priced = services.price(actor, till.request())
    except DomainError as problem:
        return None, place_problem(till, problem, panel)
    quote = priced.quote
    if step.points_to_max or step.pay_all:
        # Show what is actually redeemed / paid rather than what was asked for.
        till.points = quote.points_redeemed
        if step.pay_all:
            till.stored_value = quote.stored_value_paid
        priced = services.price(actor, till.request())
        quote = priced.quote
    # A quote only reports these; the commit would refuse them, so say so now.
    if quote.insufficient_points and panel is not None:
        short_of_points(till, panel)
    if quote.insufficient_stored_value and panel is not None:
        short_of_stored_value(till, panel)
    return priced, []


def till_context(request: HttpRequest, till: Till, step: Step) -> dict[str, Any]:
    actor: Actor = request.actor
    panel, gone = member_panel(actor, till)
    general = [gone] if gone else []
    if till.dropped_lines:
        general.append(_("A line could not be read and was left out: check the basket."))
    # Priced before a refused commit's messages are placed: the totals stay on the page.
    priced, refused = price_till(actor, till, panel, step)
    general += refused
    if step.problem is not None:
        general += place_problem(till, step.problem, panel)
    quote = priced.quote if priced else None
    rows = [
        LineRow(index, line, quote.lines[index] if quote else None, till.line_errors.get(index, []))
        for index, line in enumerate(till.lines)
    ]
    applied_codes = {pricing.normalize_code(code) for code in till.codes}
    return {
        "till": till,
        "step": step,
        "focus": step.focus,
        "store": store_named(actor, till.store),
        "panel": panel,
        "rows": rows,
        "gifts": list(quote.lines[len(till.lines) :]) if quote else [],
        "quote": quote,
        "promotions_discount": quote.discount - quote.member_discount if quote else 0,
        "code_rows": code_rows(till, quote),
        "automatic": [a for a in quote.applied if a.kind == "automatic"] if quote else [],
        "coupons_on_sale": applied_codes,
        "max_points": max_redeemable(actor, till, panel) if quote else None,
        "pin_needed": bool(
            quote
            and quote.stored_value_paid
            and services.pin_required(actor.merchant, quote.stored_value_paid)
        ),
        "general_errors": general,
    }


def store_named(actor: Actor, code: str) -> Store | None:
    if actor.store_bound is not None:
        return actor.store_bound
    return active_stores(actor.merchant).filter(code=code).first() if code else None


def render_till(request: HttpRequest, till: Till, step: Step) -> HttpResponse:
    context = till_context(request, till, step)
    template = "sales/_till_state.html" if wants_fragment(request) else "sales/till.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- the till's operations -------------------------------------------------------------------


def op_scan(request: HttpRequest, till: Till, _arg: str) -> Step:
    sku, quantity = parse_scan(request.POST.get("scan"))
    if not sku:
        return Step()
    in_basket = next((line for line in till.lines if line.sku == sku), None)
    known = (
        replace(in_basket, quantity=quantity, typed_quantity=None)
        if in_basket
        else SkuMemory(request).recall(sku, quantity)
    )
    if known is None:
        form = ItemForm(
            initial={"item_sku": sku, "item_qty": quantity}, merchant=request.actor.merchant
        )
        return Step(focus="item-category", item_form=form)
    if in_basket is None and len(till.lines) >= MAX_TILL_LINES:
        return Step(notice=_("A sale has at most %(max)d lines.") % {"max": MAX_TILL_LINES})
    till.add_line(known)
    return Step()


def op_add_item(request: HttpRequest, till: Till, _arg: str) -> Step:
    form = ItemForm(request.POST, merchant=request.actor.merchant)
    if not form.is_valid():
        return Step(focus=form.first_error_id, item_form=form)
    line = form.line()
    index = form.cleaned_data.get("item_index")
    if index is not None and index < len(till.lines):
        till.lines[index] = line
        till.line_errors.pop(index, None)
    elif len(till.lines) >= MAX_TILL_LINES:
        return Step(notice=_("A sale has at most %(max)d lines.") % {"max": MAX_TILL_LINES})
    else:
        till.add_line(line)
    SkuMemory(request).remember(line)
    return Step()


def line_index(till: Till, arg: str) -> int | None:
    index = parse_count(arg, low=0, high=MAX_TILL_LINES)
    return index if index is not None and index < len(till.lines) else None


def op_edit(request: HttpRequest, till: Till, arg: str) -> Step:
    index = line_index(till, arg)
    if index is None:
        return Step()
    line = till.lines[index]
    initial = {
        "item_sku": line.sku,
        "item_category": line.category,
        "item_price": f"{line.unit_price // 100}.{line.unit_price % 100:02d}",
        "item_qty": line.quantity,
        "item_name": line.name,
        "item_index": index,
    }
    form = ItemForm(initial=initial, merchant=request.actor.merchant)
    return Step(focus="item-price", item_form=form)


def op_more(request: HttpRequest, till: Till, arg: str) -> Step:
    index = line_index(till, arg)
    if index is not None and not till.line_errors.get(index):
        till.lines[index].quantity = min(till.lines[index].quantity + 1, services.MAX_QUANTITY)
    return Step(focus=f"qty-{index}" if index is not None else SCAN)


def op_less(request: HttpRequest, till: Till, arg: str) -> Step:
    index = line_index(till, arg)
    if index is not None and not till.line_errors.get(index) and till.lines[index].quantity > 1:
        till.lines[index].quantity -= 1
    return Step(focus=f"qty-{index}" if index is not None else SCAN)


def op_remove(request: HttpRequest, till: Till, arg: str) -> Step:
    index = line_index(till, arg)
    if index is not None:
        del till.lines[index]
        # Errors are kept per index: the lines after the removed one move up.
        till.line_errors = {
            (i - 1 if i > index else i): errors
            for i, errors in till.line_errors.items()
            if i != index
        }
    if not till.lines:
        return Step()
    return Step(focus=f"qty-{min(index or 0, len(till.lines) - 1)}")


def op_identify(request: HttpRequest, till: Till, _arg: str) -> Step:
    typed = clean_text(request.POST.get("member_code"), 300)
    if not typed:
        return Step(focus="member-input")
    try:
        member = services.identify_member(request.actor, typed)
    except NotFound:
        return Step(
            focus="member-input",
            member_typed=typed,
            member_error=_("No member with this mobile, card number or member code."),
        )
    except DomainError as problem:
        return Step(focus="member-input", member_typed=typed, member_error=str(problem.detail))
    if member.pk != till.member:
        till.forget_member()
        till.member = member.pk
    return Step()


def op_walk_in(request: HttpRequest, till: Till, _arg: str) -> Step:
    till.forget_member()
    return Step(focus="member-input")


def add_code(till: Till, code: str) -> Step:
    code = clean_text(code, 64)
    if not code:
        return Step(focus="code-input")
    if len(till.codes) >= MAX_CODES:
        return Step(
            focus="code-input",
            code_typed=code,
            notice=_("At most %(max)d codes on one sale.") % {"max": MAX_CODES},
        )
    till.add_code(code)
    return Step(focus="code-input")


def op_add_code(request: HttpRequest, till: Till, _arg: str) -> Step:
    return add_code(till, request.POST.get("code_input", ""))


def op_apply_coupon(request: HttpRequest, till: Till, arg: str) -> Step:
    step = add_code(till, arg)
    step.focus = SCAN
    return step


def op_remove_code(request: HttpRequest, till: Till, arg: str) -> Step:
    index = parse_count(arg, low=0, high=MAX_CODES)
    if index is not None and index < len(till.codes):
        del till.codes[index]
    return Step(focus="code-input")


def op_points_max(request: HttpRequest, till: Till, _arg: str) -> Step:
    panel, _gone = member_panel(request.actor, till)
    if panel is None:
        return Step()
    till.points = panel.points
    till.errors.pop("points", None)
    return Step(focus="points-input", points_to_max=True)


def op_pay_all(request: HttpRequest, till: Till, _arg: str) -> Step:
    panel, _gone = member_panel(request.actor, till)
    if panel is None:
        return Step()
    till.stored_value = panel.stored_value
    till.errors.pop("stored_value", None)
    return Step(focus="card-input", pay_all=True)


def op_quote(request: HttpRequest, till: Till, _arg: str) -> Step:
    return Step(focus="")  # the page keeps its focus


def op_cancel_item(request: HttpRequest, till: Till, _arg: str) -> Step:
    return Step()


OPERATIONS: dict[str, Callable[[HttpRequest, Till, str], Step]] = {
    "quote": op_quote,
    "scan": op_scan,
    "add_item": op_add_item,
    "cancel_item": op_cancel_item,
    "edit": op_edit,
    "more": op_more,
    "less": op_less,
    "remove": op_remove,
    "identify": op_identify,
    "walk_in": op_walk_in,
    "add_code": op_add_code,
    "apply": op_apply_coupon,
    "remove_code": op_remove_code,
    "points_max": op_points_max,
    "pay_all": op_pay_all,
}


# --- pages -----------------------------------------------------------------------------------


@may_sell
@require_GET
def till(request: HttpRequest) -> HttpResponse:
    """A new, empty basket; HQ first picks the store it sells in."""
    store = None if request.GET.get("pick") else chosen_store(request)
    if store is None:
        stores = active_stores(request.actor.merchant)
        return render(request, "sales/choose_store.html", {"stores": stores})
    bound = request.actor.store_bound is not None
    return render_till(request, Till.empty("" if bound else store.code), Step())


@may_sell
@require_POST
def quote(request: HttpRequest) -> HttpResponse:
    """Apply one operation (`op`, e.g. `scan`, `more:2`) to the posted basket and re-price."""
    till = read_till(request.POST)
    name, _sep, arg = str(request.POST.get("op", "quote")).partition(":")
    if name == "clear":
        return render_till(request, Till.empty(till.store), Step())
    operation = OPERATIONS.get(name, op_quote)
    return render_till(request, till, operation(request, till, arg))


@may_sell
@require_POST
def commit(request: HttpRequest) -> HttpResponse:
    """Record the sale once per one-time key and show its receipt."""
    actor: Actor = request.actor
    till = read_till(request.POST)
    if till.has_errors or till.dropped_lines:
        return render_till(request, till, Step(focus=""))
    try:
        sale = services.commit_sale(actor, till.request(), key=f"till:{till.key}")
    except DomainError as problem:
        return render_till(request, till, Step(focus=problem_focus(problem), problem=problem))
    if sale.replayed:
        messages.info(request, _("This sale was already recorded; it was not charged again."))
    return htmx_redirect(request, reverse("sales:receipt", args=[sale.pk]))


def problem_focus(problem: DomainError) -> str:
    if problem.code.startswith("pin_"):
        return "pin-input"
    return {
        "insufficient_points": "points-input",
        "insufficient_balance": "card-input",
        "coupon_not_applicable": "code-input",
        "member_frozen": "member-input",
    }.get(problem.code, "confirm-button")


# --- receipt and refunds ---------------------------------------------------------------------


def cashier_of(sale: Sale) -> str:
    if sale.user_id:
        return person_name(sale.user)
    if sale.api_key_id:
        return _("API key %(name)s") % {"name": sale.api_key.name}
    return _("System")


def receipt_context(request: HttpRequest, sale: Sale, form: RefundForm) -> dict[str, Any]:
    member = sale.member
    after = ledger_selectors.member_balances(member, as_of=sale.occurred_at) if member else None
    refunds = [selectors.present_refund(refund) for refund in sale.refunds.order_by("pk")]
    lines = list(sale.lines.order_by("position"))
    return {
        "sale": sale,
        "lines": [
            (line, form.quantity_field(line), line.quantity - line.refunded_quantity)
            for line in lines
        ],
        "discounts": list(sale.discounts.order_by("pk")),
        "member": member,
        # The slip goes home with the member: never the whole mobile on paper (F-45).
        "receipt_mobile": mask_mobile(member.mobile) if member else "",
        "after": after,
        "cashier": cashier_of(sale),
        "refunds": refunds,
        "refundable": any(line.quantity > line.refunded_quantity for line in lines),
        "form": form,
        "refund_key": form.key_value(),
    }


def render_receipt(request: HttpRequest, sale: Sale, form: RefundForm) -> HttpResponse:
    return render(request, "sales/receipt.html", receipt_context(request, sale, form))


@may_sell
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    sale = sale_or_404(request.actor, pk)
    return render_receipt(request, sale, RefundForm(sale=sale))


def place_refund_problem(form: RefundForm, ask: services.RefundAsk, problem: DomainError) -> None:
    form.add_error(None, str(problem.detail))
    for error in problem.errors or []:
        match = LINE_FIELD.match(error.field)
        if not match or int(match["index"]) >= len(ask.lines):
            continue
        sku = ask.lines[int(match["index"])][0]
        for line in form.sale_lines:
            name = form.quantity_name(line)
            if line.sku == sku and name in form.fields:
                form.add_error(name, str(error.message))
                break


@may_sell
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Refund some quantities of a sale, or all of what is left (`all`)."""
    actor: Actor = request.actor
    sale = sale_or_404(actor, pk)
    form = RefundForm(request.POST, sale=sale)
    if form.is_valid():
        try:
            ask = form.ask(everything="all" in request.POST)
        except forms.ValidationError as problem:
            form.add_error(None, problem)
        else:
            try:
                done = services.refund_sale(actor, sale, ask, key=f"till-refund:{form.key_value()}")
            except DomainError as problem:
                place_refund_problem(form, ask, problem)
            else:
                announce_refund(request, done)
                return redirect(reverse("sales:receipt", args=[sale.pk]) + f"#refund-{done.pk}")
    sale.refresh_from_db()
    return render_receipt(request, sale, form)


def announce_refund(request: HttpRequest, done) -> None:
    if getattr(done, "replayed", False):
        messages.info(request, _("This refund was already recorded; nothing was refunded twice."))
        return
    messages.success(
        request,
        _("Refund recorded: %(amount)s back (cash %(cash)s, card %(card)s).")
        % {
            "amount": yuan(done.amount),
            "cash": yuan(done.cash_refunded),
            "card": yuan(done.stored_value_returned),
        },
    )


# --- today's sales ---------------------------------------------------------------------------


def start_of_today() -> dt.datetime:
    # may_sell renders in the merchant's time zone, so this is the merchant's midnight.
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def todays_sales(actor: Actor, store: Store | None) -> QuerySet[Sale]:
    sales = Sale.objects.filter(merchant=actor.merchant, occurred_at__gte=start_of_today())
    if actor.store_bound is not None:
        sales = sales.filter(store=actor.store_bound)
    elif store is not None:
        sales = sales.filter(store=store)
    return sales.select_related("store", "member", "user").order_by("-occurred_at", "-pk")


@may_sell
@require_GET
def sales_today(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    everywhere = actor.store_bound is None and request.GET.get("store") == "all"
    store = None if everywhere else chosen_store(request)
    sales = todays_sales(actor, store)
    figures = sales.aggregate(
        count=Count("pk"), total=Sum("total"), cash=Sum("cash_due"), card=Sum("stored_value_paid")
    )
    context = {
        "sales": sales[:500],
        "figures": figures,
        "store": store,
        "everywhere": everywhere,
        "stores": active_stores(actor.merchant) if actor.store_bound is None else [],
        "today": start_of_today(),
    }
    return render(request, "sales/sales_list.html", context)
