"""The cashier screen's state machine (F-50): one key pressed, one operation on the basket.

The basket lives in the page (`forms.Till`). Each key the cashier presses posts all of it; an
operation (scan, identify, add a code, …) changes it and says where the focus goes (`Step`),
then `screen` prices the result on the server with `services.price` and works out what the
page shows, with every refusal placed next to the input it is about. Nothing here reads the
request or renders: `views` does both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _

from patron.catalogue import selectors as catalogue
from patron.catalogue.models import Product
from patron.core.errors import DomainError, NotFound
from patron.core.money import yuan
from patron.engine import pricing
from patron.ledger import payments
from patron.program.selectors import category_names
from patron.promotions import selectors as promotions
from patron.sales import selectors, services
from patron.sales.forms import (
    LINE_FIELD,
    MAX_CODES,
    MAX_TILL_LINES,
    ItemForm,
    Till,
    TillLine,
    TillTender,
    clean_text,
    parse_count,
    parse_scan,
)
from patron.sales.selectors import MemberPanel
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import active_stores

SKU_MEMORY = "sales.skus"  # session: SKUs typed at this till, per merchant
SKU_MEMORY_SIZE = 500
SCAN = "scan-input"

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
    pricing.SOLD_OUT: lambda: _("Sold out"),
    pricing.LIMIT_REACHED: lambda: _("Limit reached"),
}


def rejection_reason(reason: str) -> str:
    explain = REJECTION_REASONS.get(reason)
    return explain() if explain else reason


# --- SKUs remembered in this session ---------------------------------------------------------


class SkuMemory:
    """SKUs typed at this till in this login session: a second scan needs no typing.

    For codes the catalogue does not have: the session is the till's short memory of what
    the cashier already told it (per merchant, newest last, at most SKU_MEMORY_SIZE).
    """

    def __init__(self, session: Any, merchant_id: int) -> None:
        self.session = session
        self.scope = str(merchant_id)

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


# --- one key pressed -------------------------------------------------------------------------


@dataclass
class Press:
    """What came with a key: who pressed it, the page's inputs, the operation's argument
    (`more:2` -> "2") and this till's SKU memory."""

    actor: Actor
    posted: Mapping[str, Any]
    arg: str
    memory: SkuMemory


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
    removed_line: TillLine | None = None  # just removed: the page offers Undo
    # Inputs whose text this step used up (a member found, a code added): the page empties
    # them instead of keeping what was typed.
    consumed: tuple[str, ...] = ()


def catalogue_line(product: Product, quantity: int) -> TillLine:
    """A line priced by the catalogue: the server reads its category and price there."""
    return TillLine(
        product.sku, product.category.code, product.price, quantity, product.name, price_typed=False
    )


def ask_for_price(press: Press, product: Product, quantity: int) -> Step:
    """A product priced at the till (price 0): the cashier types what it costs."""
    initial = {
        "item_sku": product.sku,
        "item_category": product.category.code,
        "item_qty": quantity,
        "item_name": product.name,
    }
    return Step(focus="item-price", item_form=ItemForm(initial=initial, actor=press.actor))


def add_known(till: Till, line: TillLine, in_basket: bool) -> Step:
    if not in_basket and len(till.lines) >= MAX_TILL_LINES:
        return too_many_lines()
    till.selected = till.add_line(line)
    return Step()


def op_scan(press: Press, till: Till) -> Step:
    """A SKU or barcode scanned or typed: the basket's line, the catalogue's product, or what
    this till was told before; an unknown code adds nothing and asks what it is."""
    code, quantity = parse_scan(press.posted.get("scan"))
    if not code:
        return Step()
    in_basket = next((line for line in till.lines if line.sku == code), None)
    if in_basket is not None:
        return add_known(till, replace(in_basket, quantity=quantity, typed_quantity=None), True)
    product = catalogue.resolve(press.actor, code)
    if product is not None:
        return add_product(press, till, product, quantity)
    remembered = press.memory.recall(code, quantity)
    if remembered is not None:
        return add_known(till, remembered, False)
    form = ItemForm(initial={"item_sku": code, "item_qty": quantity}, actor=press.actor)
    form.unknown_code = code
    return Step(focus="item-category", item_form=form)


def op_pick(press: Press, till: Till) -> Step:
    """A product tapped in the favourites grid or the search results (`pick:SKU`)."""
    product = catalogue.resolve(press.actor, press.arg)
    if product is None:
        return Step(notice=_("This product is no longer sold: search again."))
    return add_product(press, till, product, 1)


def add_product(press: Press, till: Till, product: Product, quantity: int) -> Step:
    """More of the line that has it (its price, typed or not, kept), else a new line."""
    in_basket = next((line for line in till.lines if line.sku == product.sku), None)
    if in_basket is not None:
        return add_known(till, replace(in_basket, quantity=quantity, typed_quantity=None), True)
    if not product.price:
        return ask_for_price(press, product, quantity)
    return add_known(till, catalogue_line(product, quantity), False)


def too_many_lines() -> Step:
    return Step(notice=_("A sale has at most %(max)d lines.") % {"max": MAX_TILL_LINES})


def op_add_item(press: Press, till: Till) -> Step:
    form = ItemForm(press.posted, actor=press.actor)
    if not form.is_valid():
        return Step(focus=form.first_error_id, item_form=form)
    line = form.line()
    index = form.cleaned_data.get("item_index")
    if index is not None and index < len(till.lines):
        till.lines[index] = line
        till.line_errors.pop(index, None)
        till.selected = index
    elif len(till.lines) >= MAX_TILL_LINES:
        return too_many_lines()
    else:
        till.selected = till.add_line(line)
    press.memory.remember(line)
    return Step()


def line_index(till: Till, arg: str) -> int | None:
    index = parse_count(arg, low=0, high=MAX_TILL_LINES)
    return index if index is not None and index < len(till.lines) else None


def op_edit(press: Press, till: Till) -> Step:
    index = line_index(till, press.arg)
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
    return Step(focus="item-price", item_form=ItemForm(initial=initial, actor=press.actor))


def op_more(press: Press, till: Till) -> Step:
    """One more of line `arg` (the selected line: the page sends its index)."""
    index = line_index(till, press.arg)
    if index is not None:
        till.selected = index
        if not till.line_errors.get(index):
            line = till.lines[index]
            line.quantity = min(line.quantity + 1, services.MAX_QUANTITY)
    return Step(focus="")


def op_less(press: Press, till: Till) -> Step:
    """One less; at 1 the line goes, with Undo (a quantity is never below 1)."""
    index = line_index(till, press.arg)
    if index is None:
        return Step(focus="")
    till.selected = index
    if till.line_errors.get(index):
        return Step(focus="")
    if till.lines[index].quantity > 1:
        till.lines[index].quantity -= 1
        return Step(focus="")
    return remove_line(till, index)


def remove_line(till: Till, index: int) -> Step:
    line = till.lines.pop(index)
    till.removed = (index, line)
    # Errors are kept per index: the lines after the removed one move up.
    till.line_errors = {
        (i - 1 if i > index else i): errors for i, errors in till.line_errors.items() if i != index
    }
    till.selected = min(index, len(till.lines) - 1) if till.lines else None
    return Step(focus=SCAN, removed_line=line)


def op_remove(press: Press, till: Till) -> Step:
    index = line_index(till, press.arg)
    if index is None:
        return Step()
    return remove_line(till, index)


def op_undo(press: Press, till: Till) -> Step:
    """Put back the line last removed, where it was (or onto the same SKU scanned since)."""
    if till.removed is None:
        return Step()
    index, line = till.removed
    till.removed = None
    if any(existing.sku == line.sku for existing in till.lines):
        till.selected = till.add_line(line)
    elif len(till.lines) >= MAX_TILL_LINES:
        return too_many_lines()
    else:
        index = min(index, len(till.lines))
        till.lines.insert(index, line)
        # Errors are kept per index: the lines from `index` on move down.
        till.line_errors = {(i + 1 if i >= index else i): e for i, e in till.line_errors.items()}
        till.selected = index
    return Step()


def op_select(press: Press, till: Till) -> Step:
    till.select(press.arg)
    return Step(focus="")


def op_identify(press: Press, till: Till) -> Step:
    typed = clean_text(press.posted.get("member_code"), 300)
    if not typed:
        return Step(focus="member-input")
    try:
        member = services.identify_member(press.actor, typed)
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
    return Step(consumed=("member-input",))


def op_walk_in(press: Press, till: Till) -> Step:
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
    return Step(focus="code-input", consumed=("code-input",))


def op_add_code(press: Press, till: Till) -> Step:
    return add_code(till, press.posted.get("code_input", ""))


def op_apply_coupon(press: Press, till: Till) -> Step:
    step = add_code(till, press.arg)
    step.focus = SCAN
    step.consumed = ()  # a coupon's button: what is typed in the code box stays
    return step


def op_remove_code(press: Press, till: Till) -> Step:
    index = parse_count(press.arg, low=0, high=MAX_CODES)
    if index is not None and index < len(till.codes):
        del till.codes[index]
    return Step(focus="code-input")


def op_points_max(press: Press, till: Till) -> Step:
    return use_everything(press, till, "points", Step(focus="points-input", points_to_max=True))


def op_pay_all(press: Press, till: Till) -> Step:
    return use_everything(press, till, "stored_value", Step(focus="card-input", pay_all=True))


def use_everything(press: Press, till: Till, what: str, step: Step) -> Step:
    """Ask for all the member holds of `what` (points, stored value); pricing then shows how
    much of it the basket can take."""
    panel, _gone = member_panel(press.actor, till)
    if panel is None:
        return Step()
    setattr(till, what, getattr(panel, what))
    till.errors.pop(what, None)
    return step


# --- the payment panel: how the rest is paid (F-22) ------------------------------------------


def op_pay_by(press: Press, till: Till) -> Step:
    """One tap: everything left to pay by this method."""
    if press.arg not in payments.METHODS:
        return Step()
    till.tenders = [TillTender(press.arg)]
    till.payment_errors.clear()
    if press.arg != payments.CASH:
        till.cash_handed = None
    return Step(focus="cash-handed-input" if press.arg == payments.CASH else "confirm-button")


def op_split(press: Press, till: Till) -> Step:
    """Add a method to a mixed payment: it pays what the others leave; the method before it
    now wants its amount typed."""
    if press.arg not in payments.METHODS:
        return Step()
    rows = till.tenders or [TillTender(payments.CASH)]
    if any(row.method == press.arg for row in rows):
        return Step()
    till.tenders = [*rows, TillTender(press.arg)]
    return Step(focus=f"tender-amount-{len(till.tenders) - 2}")


def op_unsplit(press: Press, till: Till) -> Step:
    index = parse_count(press.arg, low=0, high=len(payments.METHODS))
    if index is not None and index < len(till.tenders):
        del till.tenders[index]
        till.payment_errors.clear()
    return Step()


def op_quote(press: Press, till: Till) -> Step:
    return Step(focus="")  # the page keeps its focus


def op_cancel_item(press: Press, till: Till) -> Step:
    return Step()


OPERATIONS: dict[str, Callable[[Press, Till], Step]] = {
    "quote": op_quote,
    "scan": op_scan,
    "pick": op_pick,
    "add_item": op_add_item,
    "cancel_item": op_cancel_item,
    "edit": op_edit,
    "more": op_more,
    "less": op_less,
    "remove": op_remove,
    "undo": op_undo,
    "select": op_select,
    "identify": op_identify,
    "walk_in": op_walk_in,
    "add_code": op_add_code,
    "apply": op_apply_coupon,
    "remove_code": op_remove_code,
    "points_max": op_points_max,
    "pay_all": op_pay_all,
    "pay_by": op_pay_by,
    "split": op_split,
    "unsplit": op_unsplit,
}


def apply(operation: str, press: Press, till: Till) -> tuple[Till, Step]:
    """Apply one operation by name (an unknown one just re-prices); `clear` starts over."""
    if operation == "clear":
        return Till.empty(till.store), Step()
    step = OPERATIONS.get(operation, op_quote)(press, till)
    if step.removed_line is None and operation not in ("quote", "select"):
        till.removed = None  # Undo is offered for the last key only
    return till, step


def refused(problem: DomainError) -> Step:
    """A commit the services refused: the focus goes to the input the refusal is about."""
    if problem.code.startswith("pin_") or any(e.field == "pin" for e in problem.errors):
        focus = "pin-input"  # a wrong PIN, or one that is not six digits
    else:
        focus = {
            "insufficient_points": "points-input",
            "insufficient_balance": "card-input",
            "coupon_not_applicable": "code-input",
            "member_frozen": "member-input",
            "tenders_mismatch": "cash-handed-input",
        }.get(problem.code, "confirm-button")
    return Step(focus=focus, problem=problem)


# --- what the till shows ---------------------------------------------------------------------


@dataclass
class LineRow:
    index: int
    line: TillLine
    priced: pricing.PricedLine | None
    errors: list[str] = field(default_factory=list)
    category_name: str = ""  # what the till shows (客房), never the code


@dataclass(frozen=True)
class Saving:
    """One kind of saving in the totals."""

    kind: str  # member_price / promotions / points
    figure: str  # the page's data-figure name
    label: str
    amount: int  # fen, above 0
    detail: str = ""


def savings(quote: pricing.Quote) -> list[Saving]:
    """One line per kind of saving, each counted once: member prices (the tier's discount),
    promotions and coupons (every applied amount), points. They add up to subtotal - total.

    `quote.discount` already holds the member prices and every promotion and coupon: it is
    never shown beside them (that counted the same fen twice).
    """
    points = _("%(points)s points") % {"points": f"{quote.points_redeemed:,}"}
    rows = [
        Saving("member_price", "member-discount", _("Member prices"), quote.member_discount),
        Saving(
            "promotions",
            "promotions-discount",
            _("Promotions and coupons"),
            quote.discount - quote.member_discount,
        ),
        Saving("points", "points-value", _("Points"), quote.points_value, points),
    ]
    return [row for row in rows if row.amount]


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
    return selectors.member_panel(actor, member), ""


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
    if code == "tenders_mismatch":
        till.payment_errors["tenders"] = str(problem.detail)
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


def limited_rows(actor: Actor, till: Till, quote: pricing.Quote | None) -> list[CodeRow]:
    """Automatic limited offers this sale goes without (sold out, or the member's limit
    reached), by name and in words; typed codes say it in their own row."""
    if quote is None:
        return []
    typed = set(till.codes)
    found = [
        r for r in quote.rejected if r.reason in services.LIMIT_REASONS and r.code not in typed
    ]
    if not found:
        return []
    names = dict(
        promotions.program_promotions(actor.merchant)
        .filter(code__in=[r.code for r in found])
        .values_list("code", "name")
    )
    return [
        CodeRow(index, r.code, name=names.get(r.code, r.code), reason=rejection_reason(r.reason))
        for index, r in enumerate(found)
    ]


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


@dataclass
class TenderRow:
    index: int
    method: str
    amount: int | None  # fen: typed, or what is left for the last row
    typed: str
    is_rest: bool  # the last row pays what the others leave
    error: str = ""

    @property
    def label(self) -> str:
        return payments.label(self.method)


@dataclass
class Payment:
    """What the payment panel shows: the rows, what each pays and the change for cash."""

    due: int
    rows: list[TenderRow]
    rest: int
    cash_part: int
    handed: int | None
    problems: list[str]

    @property
    def single(self) -> str | None:
        """The method that pays everything (one tap), when there is one."""
        return self.rows[0].method if len(self.rows) == 1 else None

    @property
    def change(self) -> int | None:
        if self.handed is None or self.handed < self.cash_part:
            return None
        return self.handed - self.cash_part

    @property
    def methods(self) -> list[tuple[str, str]]:
        return [(code, payments.label(code)) for code in payments.METHODS]

    @property
    def more(self) -> list[tuple[str, str]]:
        """Methods a mixed payment may still add."""
        chosen = {row.method for row in self.rows}
        return [(code, label) for code, label in self.methods if code not in chosen]


def payment(till: Till, due: int) -> Payment:
    """The panel for `due` (the quote's cash_due): the last row pays what the others leave;
    what cannot be paid that way is said next to the rows."""
    chosen = till.tenders or [TillTender(payments.CASH)]
    typed = sum(tender.amount or 0 for tender in chosen[:-1])
    rest = due - typed
    rows = [
        TenderRow(
            index=index,
            method=tender.method,
            amount=rest if index == len(chosen) - 1 else tender.amount,
            typed=tender.typed,
            is_rest=index == len(chosen) - 1,
            error=till.payment_errors.get(f"tender-{index}", ""),
        )
        for index, tender in enumerate(chosen)
    ]
    cash_part = next((max(row.amount or 0, 0) for row in rows if row.method == payments.CASH), 0)
    problems = [till.payment_errors[key] for key in ("tenders",) if key in till.payment_errors]
    if due and any(not row.is_rest and not row.amount for row in rows if not row.typed):
        problems.append(_("Type how much each method pays; the last one pays the rest."))
    elif due and rest <= 0 and len(rows) > 1:
        problems.append(
            _("The other methods already pay %(typed)s of %(due)s: lower them.")
            % {"typed": yuan(typed), "due": yuan(due)}
        )
    handed = till.cash_handed
    if handed is not None and handed < cash_part:
        problems.append(
            _("The cash handed over (%(handed)s) is less than the cash part (%(cash)s).")
            % {"handed": yuan(handed), "cash": yuan(cash_part)}
        )
    if "cash_handed" in till.payment_errors:
        problems.append(till.payment_errors["cash_handed"])
    # A refused confirm says again what the panel says: once is enough.
    return Payment(due, rows, rest, cash_part, handed, list(dict.fromkeys(problems)))


def sale_to_commit(actor: Actor, till: Till) -> services.SaleRequest:
    """The basket with its tenders, adding up to what the server prices it at: the last row
    takes the rest of `cash_due`. A panel that cannot pay that way is refused like a sale whose
    tenders do not add up (422 `tenders_mismatch`), with nothing written."""
    request = till.request()
    due = services.price(actor, request).quote.cash_due
    shown = payment(till, due)
    if not due:
        return request  # stored value and points paid it all: no tender
    if till.payment_errors or shown.problems:
        problem = (shown.problems or list(till.payment_errors.values()))[0]
        raise DomainError(problem, "tenders_mismatch", 422)
    request.tenders = [
        services.TenderInput(
            row.method,
            row.amount or 0,
            till.cash_handed if row.method == payments.CASH else None,
        )
        for row in shown.rows
    ]
    return request


def store_named(actor: Actor, code: str) -> Store | None:
    if actor.store_bound is not None:
        return actor.store_bound
    return active_stores(actor.merchant).filter(code=code).first() if code else None


def screen(actor: Actor, till: Till, step: Step) -> dict[str, Any]:
    """Everything the till's page shows after a step (the template's context)."""
    panel, gone = member_panel(actor, till)
    general = [gone] if gone else []
    if till.dropped_lines:
        general.append(_("A line could not be read and was left out: check the basket."))
    # Priced before a refused commit's messages are placed: the totals stay on the page.
    priced, refused_now = price_till(actor, till, panel, step)
    general += refused_now
    if step.problem is not None:
        general += place_problem(till, step.problem, panel)
    quote = priced.quote if priced else None
    names = category_names(actor.merchant) if till.lines else {}
    rows = [
        LineRow(
            index,
            line,
            quote.lines[index] if quote else None,
            till.line_errors.get(index, []),
            names.get(line.category, line.category),
        )
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
        "savings": savings(quote) if quote else [],
        "selected": till.selected,
        "removed_line": step.removed_line,
        "code_rows": code_rows(till, quote),
        "automatic": [a for a in quote.applied if a.kind == "automatic"] if quote else [],
        "limited": limited_rows(actor, till, quote),
        "coupons_on_sale": applied_codes,
        "max_points": max_redeemable(actor, till, panel) if quote else None,
        "pin_needed": bool(
            quote
            and quote.stored_value_paid
            and services.pin_required(actor.merchant, quote.stored_value_paid)
        ),
        "general_errors": general,
        "payment": payment(till, quote.cash_due) if quote else None,
    }
