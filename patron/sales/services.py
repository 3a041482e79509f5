"""Checkout (F-20 … F-24): quote a basket, commit a sale, refund it, verify the member's PIN.

The server always re-prices: a sale is whatever `patron.engine.pricing.quote` says for the
lines, codes and member on the server at `occurred_at`; client-side discounts or point costs
are never read. Committing writes the sale, its lines, the coupons it used, the points it spent
and earned, the stored value it took and the member's running figures in ONE database
transaction: any failure leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.catalogue import selectors as catalogue
from patron.catalogue.barcodes import clean_barcode
from patron.catalogue.models import MAX_PRODUCT_PRICE, Product
from patron.core import rawsql
from patron.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from patron.core.idempotency import atomic_write
from patron.core.money import yuan
from patron.core.text import INT64_MAX, ascii_digits
from patron.engine import pricing
from patron.engine.money import allocate
from patron.events import types as events
from patron.events.services import emit
from patron.ledger import guards as spend_guards
from patron.ledger import payments, postings
from patron.ledger import services as ledger
from patron.ledger.errors import InsufficientFunds
from patron.ledger.models import Asset, PointsHold, Shortfall, Transaction
from patron.members import hooks
from patron.members.models import Member
from patron.promotions import limits as promotion_limits
from patron.promotions import selectors as promotions
from patron.promotions import services as coupons
from patron.sales import selectors, sql, unit_prices
from patron.sales.models import (
    MemberPin,
    MemberStats,
    PastSalesRevision,
    Refund,
    RefundLine,
    RefundTender,
    Sale,
    SaleLine,
)
from patron.sales.program import checkout_policy
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Staff, Store
from patron.tenancy.selectors import named_staff
from patron.tenancy.services import audit

MAX_LINES = 200
MAX_QUANTITY = 100_000
MAX_PRICE = 10**10
MAX_CODES = 20
FUTURE_SLACK = dt.timedelta(minutes=5)  # till clocks drift
QR_PREFIX = "PM"
QR_MAX_AGE = 60  # seconds (F-20: a screenshot of an old code must not work)
QR_SALT = "patron.sales.member-qr"
PIN_LENGTH = 6
IMPORTED_CHANNEL = "import"  # Sale.channel of `patron import sales` history
MAX_MEMBER_ID = INT64_MAX  # ids are bigint: a larger number names nobody


# --- input -----------------------------------------------------------------------------------


@dataclass
class LineInput:
    """A line as asked for. `category` and `unit_price` may be left out (None) for a product in
    the catalogue, and `barcode` may stand in for `sku` (API.md §6)."""

    sku: str | None
    category: str | None = None
    quantity: int = 1
    unit_price: int | None = None
    member_price: int | None = None
    name: str = ""
    brand: str = ""
    model: str = ""
    size: str = ""
    colour: str = ""
    barcode: str | None = None


@dataclass(frozen=True)
class PriceOverride:
    """A line whose given price differs from the catalogue's: audited when the sale commits."""

    index: int
    sku: str
    name: str
    catalogue_price: int
    given_price: int


@dataclass
class TenderInput:
    """One way the customer paid the part not paid by stored value or points (API.md §3)."""

    method: str
    amount: int  # fen
    tendered: int | None = None  # cash only: what the customer handed over


@dataclass
class SaleRequest:
    lines: list[LineInput]
    member: Any = None  # id, card number, mobile or member QR token; None: walk-in
    store: str | None = None
    occurred_at: dt.datetime | None = None
    codes: list[str] = field(default_factory=list)
    points_to_redeem: int = 0
    stored_value: int = 0
    pin: str | None = None
    tenders: list[TenderInput] | None = None  # None: all of `cash_due` in cash
    staff: str | None = None  # who sold (a user name); None: the actor's own user


@dataclass
class Priced:
    """A quote with what the server resolved to produce it."""

    quote: pricing.Quote
    member: Member | None
    store: Store
    occurred_at: dt.datetime
    coupon_ids: dict[str, int]
    request: SaleRequest
    settings: sql.CheckoutSettings
    overrides: list[PriceOverride] = field(default_factory=list)
    seller: Staff | None = None  # the staff named by the request's `staff`
    limits: promotion_limits.State | None = None  # limited promotions' use, when any may apply
    limit_scopes: dict[str, tuple] = field(default_factory=dict)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_lines(
    lines: list[LineInput],
    known: frozenset[str],
    errors: list[FieldError],
    reported: frozenset[int] = frozenset(),
) -> None:
    """The lines' shapes; those in `reported` already have their error (an unknown SKU)."""
    if not lines:
        errors.append(FieldError("lines", _("A sale needs at least one line.")))
    if len(lines) > MAX_LINES:
        errors.append(FieldError("lines", _("At most %d lines per sale.") % MAX_LINES))
    for index, line in enumerate(lines):
        path = f"lines[{index}]"
        if index in reported:
            continue
        if not isinstance(line.sku, str) or not line.sku.strip() or len(line.sku) > 64:
            errors.append(FieldError(f"{path}.sku", _("A SKU of 1 to 64 characters is required.")))
        if not _is_int(line.quantity) or not 0 < line.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(f"{path}.quantity", _("The quantity must be a whole number above 0."))
            )
        if not _is_int(line.unit_price) or not 0 < line.unit_price <= MAX_PRICE:
            errors.append(
                FieldError(
                    f"{path}.unit_price", _("The price must be a whole number of fen above 0.")
                )
            )
        if line.member_price is not None and (
            not _is_int(line.member_price) or not 0 <= line.member_price <= MAX_PRICE
        ):
            errors.append(
                FieldError(f"{path}.member_price", _("The member price must be fen, 0 or more."))
            )
        if line.category not in known:
            errors.append(
                FieldError(
                    f"{path}.category",
                    _("Unknown category %(category)r: use one of the program's categories.")
                    % {"category": line.category},
                )
            )


# --- lines named by SKU or barcode (the catalogue, API.md §6) ---------------------------------


def _unknown_line(actor: Actor, index: int, line: LineInput) -> FieldError:
    code = line.sku or line.barcode or ""
    if catalogue.is_deactivated(actor.merchant, code):
        return FieldError(
            f"lines[{index}].{'sku' if line.sku else 'barcode'}",
            _("Line %(line)d: %(code)s is deactivated in the catalogue; reactivate it to sell it.")
            % {"line": index + 1, "code": code},
        )
    if not line.sku:
        return FieldError(
            f"lines[{index}].barcode",
            _("Line %(line)d: no product has barcode %(barcode)s.")
            % {"line": index + 1, "barcode": line.barcode},
        )
    return FieldError(
        f"lines[{index}].sku",
        _(
            "Line %(line)d: SKU %(sku)s is not in the catalogue; give its category and "
            "unit_price, or add it to the catalogue."
        )
        % {"line": index + 1, "sku": line.sku},
    )


def _catalogue_line(
    index: int, line: LineInput, product: Product, errors: list[FieldError]
) -> tuple[LineInput, PriceOverride | None]:
    """`line` completed from its product; the override when it gives a price of its own."""
    filled = replace(
        line,
        sku=product.sku,
        category=line.category or product.category.code,
        name=line.name or product.name,
        brand=line.brand or product.brand,
        size=line.size or product.size,
        colour=line.colour or product.colour,
        unit_price=product.price if line.unit_price is None else line.unit_price,
    )
    if line.unit_price is None:
        if not product.price:
            errors.append(
                FieldError(
                    f"lines[{index}].unit_price",
                    _("Line %(line)d: %(sku)s is priced at the till: give its unit_price.")
                    % {"line": index + 1, "sku": product.sku},
                )
            )
        return filled, None
    if line.unit_price == product.price or not product.price:
        return filled, None  # the catalogue's price, or a product priced at the till
    if _is_int(line.unit_price) and line.unit_price > MAX_PRODUCT_PRICE:
        errors.append(
            FieldError(
                f"lines[{index}].unit_price",
                _("Line %(line)d: a price of %(price)s fen for %(sku)s is not believable.")
                % {"line": index + 1, "price": f"{line.unit_price:,}", "sku": product.sku},
            )
        )
        return filled, None
    override = PriceOverride(index, product.sku, product.name, product.price, line.unit_price)
    return filled, override


@dataclass
class Resolved:
    lines: list[LineInput]
    overrides: list[PriceOverride] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)  # lines refused here already
    unknown: set[int] = field(default_factory=set)  # of which: not in the catalogue


def resolve_lines(
    actor: Actor, lines: list[LineInput], errors: list[FieldError], *, has_products: bool = True
) -> Resolved:
    """Each line with what the catalogue knows of its SKU or barcode (one query per basket).

    A line's own category, name and price win (a given price is an override, audited at
    commit); a code the catalogue does not know needs its category and price, as before the
    catalogue existed.
    """
    skus = [line.sku.strip() for line in lines if isinstance(line.sku, str) and line.sku.strip()]
    codes = [line.barcode for line in lines if isinstance(line.barcode, str)] + skus
    by_sku, by_barcode = (
        catalogue.resolve_many(actor.merchant, skus, codes) if has_products else ({}, {})
    )
    resolved = Resolved(lines=[])
    for index, line in enumerate(lines):
        sku = line.sku.strip() if isinstance(line.sku, str) else ""
        code = sku or (line.barcode or "")
        product = by_sku.get(sku) or by_barcode.get(clean_barcode(code) or code)
        if product is not None:
            before = len(errors)
            line, override = _catalogue_line(index, line, product, errors)
            resolved.overrides += [override] if override else []
            if len(errors) > before:
                resolved.reported.add(index)
        elif not sku and not line.barcode:
            errors.append(FieldError(f"lines[{index}].sku", _("A SKU or a barcode is required.")))
            resolved.reported.add(index)
        elif line.category is None or line.unit_price is None or not sku:
            errors.append(_unknown_line(actor, index, line))
            resolved.reported.add(index)
            resolved.unknown.add(index)
        resolved.lines.append(line)
    return resolved


def _as_seller(actor: Actor, seller: Staff | None) -> Actor:
    """The actor a POS's call stands for when it names who sold: the price they typed is
    audited with their name (the API key stays on the entry)."""
    return actor if seller is None else replace(actor, staff=seller)


def _audit_overrides(actor: Actor, sale: Sale, overrides: list[PriceOverride]) -> None:
    """One audit entry per line sold at a price of the cashier's (or the API key's) own."""
    for override in overrides:
        line = SaleLine.objects.get(sale_id=sale.pk, position=override.index)
        label = _("Price changed on sale %(sale)s: %(sku)s %(name)s") % {
            "sale": sale.pk,
            "sku": override.sku,
            "name": override.name,
        }
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            line,
            {"unit_price": [override.catalogue_price, override.given_price]},
            label=label,
        )


def _check_amounts(request: SaleRequest, errors: list[FieldError]) -> None:
    for name in ("points_to_redeem", "stored_value"):
        value = getattr(request, name)
        if not _is_int(value) or value < 0 or value > MAX_PRICE:
            errors.append(FieldError(name, _("Must be a whole number, 0 or more.")))
    if len(request.codes) > MAX_CODES or not all(
        isinstance(code, str) and 0 < len(code) <= 64 for code in request.codes
    ):
        errors.append(FieldError("codes", _("At most %d codes of 1 to 64 characters.") % MAX_CODES))


def _resolve_store(actor: Actor, code: str | None, settings: sql.CheckoutSettings) -> Store:
    """The store named (read with the settings), or the actor's own."""
    bound = actor.store_bound
    if not code:
        if bound is not None:
            return bound
        raise ValidationFailed([FieldError("store", _("Which store made this sale?"))])
    store = settings.store
    if store is None:
        raise ValidationFailed([FieldError("store", _("Unknown store %(code)r.") % {"code": code})])
    if bound is not None and store.pk != bound.pk:
        raise PermissionDenied(_("You can only sell in your own store."))
    store.merchant = actor.merchant
    return store


def _occurred_at(value: dt.datetime | None, days: int) -> dt.datetime:
    now = timezone.now()
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed([FieldError("occurred_at", _("Give the time with its UTC offset."))])
    if value > now + FUTURE_SLACK or value < now - dt.timedelta(days=days):
        raise DomainError(
            _("A sale may be recorded up to %(days)d days after it happened, not in the future.")
            % {"days": days},
            code="occurred_at_out_of_window",
            status=422,
            errors=[FieldError("occurred_at", _("Outside the allowed window."))],
        )
    return value


# --- member identification (F-20) ------------------------------------------------------------


def member_qr_token(actor: Actor, member: Member) -> tuple[str, dt.datetime]:
    """A signed token naming the member, valid QR_MAX_AGE seconds (shown as a QR code)."""
    _ensure_own(actor, member)
    signer = signing.TimestampSigner(salt=QR_SALT)
    token = QR_PREFIX + signer.sign(f"{member.merchant_id}.{member.pk}")
    return token, timezone.now() + dt.timedelta(seconds=QR_MAX_AGE)


def _member_from_qr(actor: Actor, token: str) -> Member:
    signer = signing.TimestampSigner(salt=QR_SALT)
    try:
        value = signer.unsign(token[len(QR_PREFIX) :], max_age=QR_MAX_AGE)
    except signing.SignatureExpired:
        raise DomainError(
            _("This member code has expired: ask the member to refresh it."), "qr_expired", 422
        ) from None
    except signing.BadSignature:
        raise DomainError(_("This is not a valid member code."), "qr_invalid", 422) from None
    merchant_id, member_id = (int(part) for part in value.split("."))
    if merchant_id != actor.merchant.pk:
        raise NotFound(_("Member not found"))
    return _member_by(actor, pk=member_id)


def _member_by(actor: Actor, **lookup: Any) -> Member:
    # Chain-wide, not store-scoped: a member's card works in every store of the merchant
    # (the till only ever shows the mobile masked). Read with the figures pricing needs.
    ((name, value),) = lookup.items()
    member = sql.member_with_figures(actor.merchant.pk, name, value)
    if member is None:
        raise NotFound(_("Member not found"))
    member.merchant = actor.merchant  # the ledger reads it (lot expiry zone): no second query
    return member


def identify_member(actor: Actor, value: Any) -> Member:
    """The member named by an id, a card number, a mobile or a member QR token.

    Digits are ASCII or full-width (a scanner or an input method); anything else that is not a
    QR token names nobody: "²" or "١٢٣" is not found, never read as a number.
    """
    if _is_int(value):
        if not 0 < value <= MAX_MEMBER_ID:
            raise NotFound(_("Member not found"))
        return _member_by(actor, pk=value)
    text = str(value or "").strip()
    if text.startswith(QR_PREFIX) and ":" in text:
        return _member_from_qr(actor, text)
    # A physical card's id, or a card the apps above know (lost or replaced: they refuse it).
    if text and (by_card := hooks.identify(actor.merchant, text)) is not None:
        return _member_by(actor, pk=by_card.pk)
    digits = ascii_digits(text)
    if digits is None:
        raise NotFound(_("Member not found"))
    if len(digits) == 11 and digits.startswith("1"):
        return _member_by(actor, mobile=digits)
    if len(digits) == 10:
        return _member_by(actor, card_no=digits)
    if len(digits) < 10 and int(digits) > 0:
        return _member_by(actor, pk=int(digits))
    raise NotFound(_("Member not found"))


def _ensure_own(actor: Actor, member: Member) -> None:
    if member.merchant_id != actor.merchant.pk:
        raise NotFound(_("Member not found"))


# --- PIN -------------------------------------------------------------------------------------


def pin_digits(raw: Any) -> str | None:
    """The PIN as six ASCII digits (typed full-width: NFKC), or None when it is not one.

    A PIN is hashed and compared as these ASCII digits, so "２４６８１０" and "246810" are one
    PIN; "١٢٣٤٥٦" or "²²²²²²" is none (API.md §7).
    """
    digits = ascii_digits(raw)
    return digits if digits is not None and len(digits) == PIN_LENGTH else None


def checked_new_pin(pin: Any, *, allow_one_digit_repeated: bool = False, field: str = "pin") -> str:
    """A PIN a member may choose, as six ASCII digits; anything else is a field error."""
    digits = pin_digits(pin)
    if digits is None:
        raise ValidationFailed([FieldError(field, _("The PIN is 6 digits."))])
    if len(set(digits)) == 1 and not allow_one_digit_repeated:
        raise ValidationFailed(
            [FieldError(field, _("The PIN may not be one digit repeated: choose another."))]
        )
    return digits


def set_pin(
    actor: Actor, member: Member, pin: str, *, allow_one_digit_repeated: bool = False
) -> None:
    """Set (or replace) the member's PIN: six ASCII digits, not one digit repeated (API.md §7).

    A refused PIN changes nothing: the old PIN, its attempt count and any lockout stay.
    `allow_one_digit_repeated` is for the demo's seeding only (its PIN 888888, docs/demo.md):
    the API and the console never pass it.
    """
    _ensure_own(actor, member)
    digits = checked_new_pin(pin, allow_one_digit_repeated=allow_one_digit_repeated)
    MemberPin.objects.update_or_create(
        member=member,
        defaults={
            "merchant": member.merchant,
            "pin_hash": make_password(digits),
            "failed_attempts": 0,
            "locked_until": None,
        },
    )


def pin_required(merchant, amount: int, settings: sql.CheckoutSettings | None = None) -> bool:
    if settings is None:
        settings = sql.checkout_settings(merchant.pk)
    threshold = settings.pin_required_above
    return threshold is not None and amount > threshold


def verify_pin(actor: Actor, member: Member, pin: str | None) -> None:
    """Check the member's PIN; wrong ones count toward a lockout that outlives the request.

    Runs in its own transaction, before the sale's: a failed attempt must be remembered even
    though the sale it came with is rejected.
    """
    _ensure_own(actor, member)
    policy = checkout_policy(actor.merchant)
    with transaction.atomic():
        record = MemberPin.objects.select_for_update().filter(member=member).first()
        if record is None:
            raise DomainError(
                _("This member has no PIN yet: set one before paying with stored value."),
                "pin_required",
                422,
            )
        now = timezone.now()
        if record.locked_until is not None and record.locked_until > now:
            raise DomainError(
                _("Too many wrong PINs: locked until %(until)s.")
                % {"until": timezone.localtime(record.locked_until).strftime("%H:%M")},
                "pin_locked",
                423,
            )
        if not pin:
            raise DomainError(_("The member's PIN is required."), "pin_required", 422)
        digits = pin_digits(pin)
        if digits is None:
            # Not a PIN at all (a typo in the shape, another script's digits): no attempt at
            # guessing, so it does not count toward the lockout.
            raise ValidationFailed([FieldError("pin", _("The PIN is 6 digits."))])
        if check_password(digits, record.pin_hash):
            if record.failed_attempts or record.locked_until is not None:
                MemberPin.objects.filter(pk=record.pk).update(failed_attempts=0, locked_until=None)
            return
        # A lock that has run out starts a new count. While locked the count stays at the
        # limit, so every wrong try that was counted can be seen (docs/cards-pin.md).
        before = 0 if record.locked_until is not None else record.failed_attempts
        attempts = before + 1
        locked = attempts >= policy.pin_max_attempts
        MemberPin.objects.filter(pk=record.pk).update(
            failed_attempts=attempts,
            locked_until=now + dt.timedelta(minutes=policy.pin_lock_minutes) if locked else None,
        )
    if locked:
        raise DomainError(
            _("Wrong PIN; too many attempts, the PIN is locked for %(minutes)d minutes.")
            % {"minutes": policy.pin_lock_minutes},
            "pin_locked",
            423,
        )
    raise DomainError(
        _("Wrong PIN (%(left)d attempts left).") % {"left": policy.pin_max_attempts - attempts},
        "pin_invalid",
        422,
    )


# --- pricing ---------------------------------------------------------------------------------


def _till_figures(member: Member) -> sql.TillFigures:
    """Read with the member by `identify_member`; looked up for a member loaded elsewhere."""
    figures = getattr(member, "till_figures", None)
    if figures is not None:
        return figures
    balances = ledger.quick_balances(member)
    visits = MemberStats.objects.filter(member=member).values_list("visits", flat=True).first()
    return sql.TillFigures(
        tier_code=promotions.member_tier_code(member),
        points=balances[Asset.POINTS],
        stored_value=balances[Asset.PRINCIPAL] + balances[Asset.BONUS],
        visits=visits or 0,
    )


def _member_context(
    member: Member | None,
    coupon_map: dict[str, pricing.Coupon],
    usage: dict[str, pricing.LimitUsage] | None = None,
):
    if member is None:
        return pricing.MemberContext(coupons=coupon_map, usage=usage or {})
    figures = _till_figures(member)
    return pricing.MemberContext(
        member_id=str(member.pk),
        tier=figures.tier_code,
        points_available=figures.points,
        stored_value=figures.stored_value,
        first_purchase=not figures.visits,
        coupons=coupon_map,
        usage=usage or {},
    )


def price(actor: Actor, request: SaleRequest, *, refused: dict[str, str] | None = None) -> Priced:
    """Validate the request and price it on the server; writes nothing. `refused`: limited
    promotions whose take failed while committing, priced as used up (promotions/limits.py)."""
    code = request.store if isinstance(request.store, str) and request.store else None
    settings = sql.checkout_settings(actor.merchant.pk, code)
    errors: list[FieldError] = []
    known = promotions.active_category_codes(actor.merchant, settings.revision)
    resolved = resolve_lines(actor, request.lines, errors, has_products=settings.has_products)
    request = replace(request, lines=resolved.lines)
    _check_lines(resolved.lines, known, errors, frozenset(resolved.reported))
    _check_amounts(request, errors)
    if errors and len(errors) == len(resolved.unknown):
        # Only lines naming what the catalogue does not have: refused for what is stored,
        # not for the body's shape.
        raise DomainError("; ".join(str(e.message) for e in errors), "unknown_product", 422, errors)
    _check_tenders(request.tenders, errors)
    if errors:
        raise ValidationFailed(errors)
    store = _resolve_store(actor, request.store, settings)
    occurred_at = _occurred_at(request.occurred_at, settings.backdate_days)
    member = None if request.member in (None, "") else identify_member(actor, request.member)
    if member is not None and (request.points_to_redeem or request.stored_value):
        # A frozen member (a card reported lost) is refused before pricing, quote or sale.
        spend_guards.check_may_spend(actor.merchant.pk, member.pk)
    found = promotions.coupons_for_sale(actor.merchant, request.codes)
    coupon_map = {given: named.coupon for given, named in found.items()}
    unit = unit_prices.unit_discount(member, occurred_at)  # no statement without a unit
    basket = pricing.Basket(
        store=store.code,
        lines=tuple(
            pricing.Line(
                sku=line.sku.strip(),
                category=line.category,
                quantity=line.quantity,
                unit_price=line.unit_price,
                member_price=unit_prices.member_price(
                    unit, line.category, line.unit_price, line.member_price
                ),
            )
            for line in request.lines
        ),
        codes=tuple(request.codes),
        points_to_redeem=request.points_to_redeem,
        stored_value=request.stored_value,
    )
    program = promotions.engine_program(
        actor.merchant, at=occurred_at, revision=settings.revision, points=settings.points
    )
    limited = promotion_limits.limited(program)
    state = None
    if limited:
        state = promotion_limits.read_state(
            actor.merchant.pk,
            None if member is None else member.pk,
            limited,
            promotion_limits.period_of(occurred_at, actor.merchant.timezone),
            refused,
        )
    context = _member_context(member, coupon_map, state.usage if state else None)
    result = pricing.quote(basket, context, program, occurred_at)
    return Priced(
        quote=result,
        member=member,
        store=store,
        occurred_at=occurred_at,
        coupon_ids={named.coupon.code: named.id for named in found.values()},
        request=request,
        settings=settings,
        overrides=resolved.overrides,
        seller=named_staff(actor, request.staff, store),
        limits=state,
        limit_scopes=promotion_limits.scopes(program) if limited else {},
    )


def ensure_payable(priced: Priced) -> None:
    """The quote's problems a committed sale may not have (a quote just reports them)."""
    result = priced.quote
    if result.insufficient_points:
        held = 0 if priced.member is None else ledger.quick_balances(priced.member)[Asset.POINTS]
        raise InsufficientFunds(Asset.POINTS, priced.request.points_to_redeem, held)
    if result.insufficient_stored_value:
        held = 0
        if priced.member is not None:
            balances = ledger.quick_balances(priced.member)
            held = balances[Asset.PRINCIPAL] + balances[Asset.BONUS]
        raise InsufficientFunds(Asset.PRINCIPAL, result.stored_value_paid, held)


# A limited promotion used up is left out of the sale, never a reason to refuse it (API.md §11).
LIMIT_REASONS = frozenset({pricing.SOLD_OUT, pricing.LIMIT_REACHED})


def _ensure_codes_applied(result: pricing.Quote) -> None:
    rejected = [r for r in result.rejected if r.reason not in LIMIT_REASONS]
    if rejected:
        raise DomainError(
            _("A code on this sale cannot be used: %s")
            % ", ".join(f"{r.code} ({r.reason})" for r in rejected),
            "coupon_not_applicable",
            422,
            errors=[FieldError("codes", f"{r.code}: {r.reason}") for r in rejected],
        )


# --- tenders (F-22) --------------------------------------------------------------------------
# A method named twice is merged into one tender (amounts, and cash handed over, added up), so
# a refund and the shift close find each method's part in one row.


def _check_tenders(tenders: list[TenderInput] | None, errors: list[FieldError]) -> None:
    """The tenders' shape; whether they add up to what is due is known after pricing."""
    if tenders is None:
        return
    for index, tender in enumerate(tenders):
        path = f"tenders[{index}]"
        if tender.method not in payments.METHODS:
            errors.append(
                FieldError(
                    f"{path}.method",
                    _("Unknown payment method %(method)r: use one of %(methods)s.")
                    % {"method": tender.method, "methods": ", ".join(payments.METHODS)},
                )
            )
        if not _is_int(tender.amount) or not 0 < tender.amount <= MAX_PRICE:
            errors.append(
                FieldError(f"{path}.amount", _("The amount must be a whole number of fen above 0."))
            )
        if tender.tendered is not None and (
            not _is_int(tender.tendered) or not 0 <= tender.tendered <= MAX_PRICE
        ):
            errors.append(FieldError(f"{path}.tendered", _("Must be a whole number, 0 or more.")))


def merged_tenders(tenders: list[TenderInput]) -> list[TenderInput]:
    """One tender per method, in the order first named."""
    merged: dict[str, TenderInput] = {}
    for tender in tenders:
        known = merged.get(tender.method)
        if known is None:
            merged[tender.method] = TenderInput(tender.method, tender.amount, tender.tendered)
            continue
        if known.tendered is not None or tender.tendered is not None:
            before = known.amount if known.tendered is None else known.tendered
            known.tendered = before + (
                tender.amount if tender.tendered is None else tender.tendered
            )
        known.amount += tender.amount
    return list(merged.values())


def settled_tenders(priced: Priced) -> list[TenderInput]:
    """The tenders as recorded: those asked for (merged), or all that is due in cash; none
    when nothing is due."""
    tenders = priced.request.tenders
    if tenders is not None:
        return merged_tenders(tenders)
    due = priced.quote.cash_due
    return [TenderInput(payments.CASH, due)] if due else []


def _mismatch(detail: str, errors: list[FieldError]) -> DomainError:
    return DomainError(detail, "tenders_mismatch", 422, errors=errors)


def ensure_tenders_add_up(priced: Priced) -> None:
    """Tenders named must add up to `cash_due` exactly, and cash handed over must cover the
    cash part (a quote checks them when given)."""
    tenders = priced.request.tenders
    if tenders is None:
        return
    given, due = sum(tender.amount for tender in tenders), priced.quote.cash_due
    if given != due:
        raise _mismatch(
            _("The tenders add up to %(given)s but %(due)s is due.")
            % {"given": yuan(given), "due": yuan(due)},
            [FieldError("tenders", _("Must add up to %(due)s.") % {"due": yuan(due)})],
        )
    for tender in merged_tenders(tenders):
        if tender.tendered is None:
            continue
        if tender.method != payments.CASH:
            raise _mismatch(
                _("Only cash is handed over: %(method)s takes no amount handed over.")
                % {"method": payments.label(tender.method)},
                [FieldError("tenders", _("Give `tendered` with cash only."))],
            )
        if tender.tendered < tender.amount:
            raise _mismatch(
                _("The cash handed over (%(tendered)s) is less than the cash part (%(amount)s).")
                % {"tendered": yuan(tender.tendered), "amount": yuan(tender.amount)},
                [FieldError("tenders", _("Not enough cash handed over."))],
            )


def tender_rows(tenders: list[TenderInput]) -> list[dict[str, Any]]:
    """`SaleTender` columns but `sale_id`, with the change a cash tender gives."""
    return [
        {
            "position": position,
            "method": tender.method,
            "amount": tender.amount,
            "tendered": tender.tendered,
            "change": tender.tendered - tender.amount if tender.tendered is not None else 0,
        }
        for position, tender in enumerate(tenders)
    ]


# --- committing ------------------------------------------------------------------------------


def new_key() -> str:
    return f"auto:{uuid.uuid4()}"


def _replayed(actor: Actor, key: str) -> Sale | None:
    sale_id = sql.sale_id_for_key(actor.merchant.pk, key)
    if sale_id is None:
        return None
    existing = Sale.objects.select_related("store").get(pk=sale_id)
    existing.replayed = True
    return existing


def commit_sale(actor: Actor, request: SaleRequest, *, key: str | None = None) -> Sale:
    """Price on the server and record the sale with every movement it causes, once per key.

    A retry whose first attempt committed before or while the retry was being priced sees
    the coupon, points and stored value already spent, or the key taken: it then answers with
    that sale instead.
    """
    key = key or new_key()
    # No look-up first: a key already used ends in the sale INSERT's unique violation (or in
    # a pricing error, its points and coupons being spent) and is answered below. That saves
    # a statement on every sale; API retries are answered by the Idempotency-Key middleware.
    try:
        sale = _commit(actor, request, key)
    except (DomainError, IntegrityError):
        if transaction.get_connection().needs_rollback:
            # The sale failed part-way inside the Idempotency-Key middleware's transaction
            # (`atomic_write`), which must roll back before anything is read; the middleware
            # claimed the key first, so no earlier sale can hold it.
            raise
        existing = _replayed(actor, key)
        if existing is None:
            raise
        return existing
    sale.replayed = False
    return sale


def _check_priced(actor: Actor, priced: Priced, pin_checked: bool) -> bool:
    """Refuse what a committed sale may not have; whether the PIN has been checked."""
    result = priced.quote
    _ensure_codes_applied(result)
    ensure_payable(priced)
    ensure_tenders_add_up(priced)
    if priced.member is not None and not pin_checked:
        ledger.ensure_active(priced.member)  # once: the member is the same on every round
    if (
        not pin_checked
        and result.stored_value_paid
        and pin_required(actor.merchant, result.stored_value_paid, priced.settings)
    ):
        verify_pin(actor, priced.member, priced.request.pin)
        return True
    return pin_checked


def _take_limits(
    actor: Actor, request: SaleRequest, priced: Priced, pin_checked: bool
) -> tuple[Priced, list[promotion_limits.Want]]:
    """Take the sale's applications of limited promotions (in the sale's transaction). One
    that another sale took meanwhile is priced out: the sale commits without it, listed under
    `rejected` (API.md §11). Each round refuses one more promotion, so the rounds end."""
    refused: dict[str, str] = {}
    while True:
        wants = promotion_limits.wanted(priced.quote, priced.limits, priced.limit_scopes)
        if not wants:
            return priced, []
        failed = promotion_limits.take(actor.merchant.pk, priced.limits, wants)
        if not failed:
            return priced, wants
        refused.update(failed)
        priced = price(actor, request, refused=refused)
        pin_checked = _check_priced(actor, priced, pin_checked)


def _commit(actor: Actor, request: SaleRequest, key: str) -> Sale:
    priced = price(actor, request)
    pin_checked = _check_priced(actor, priced, False)
    member = priced.member
    # Under the Idempotency-Key middleware, no savepoint: a failure here (a coupon or
    # balance taken by a concurrent sale) rolls the request's whole transaction back and the
    # middleware stores the error answer in a new one (two round trips fewer per sale).
    with atomic_write():
        taken: list[promotion_limits.Want] = []
        if priced.limits is not None:
            priced, taken = _take_limits(actor, request, priced, pin_checked)
        sale = _record_sale(actor, priced, key)
        if taken:
            promotion_limits.record(actor.merchant.pk, priced.limits, taken, sale.pk)
        # The answer lists the limited promotions the sale went without (not stored).
        sale.recorded_rejected = [r for r in priced.quote.rejected if r.reason in LIMIT_REASONS]
        _audit_overrides(_as_seller(actor, priced.seller), sale, priced.overrides)
        _consume_coupons(sale, priced)
        postings = _move_value(actor, sale, priced)
        sql.finish_sale(sale.pk, postings, _visit(member, sale))
        # One INSERT in the sale's transaction (docs/events.md); before the activity
        # handlers, so a tier or stage the sale moves follows it in the member's events.
        emit(actor.merchant.pk, events.SALE_COMPLETED, _sale_data(sale), member_id=sale.member_id)
        if member is not None:
            # Tiers move right after the qualifying purchase (F-10), in the sale's transaction.
            hooks.member_activity(actor, member, "sale", {"sale": sale})
    return sale


def _sale_data(sale: Sale) -> dict[str, Any]:
    """The `sale.completed` payload: ids and figures a receiver acts on, no personal data."""
    return {
        "sale_id": sale.pk,
        "member_id": sale.member_id,
        "card_no": sale.member.card_no if sale.member is not None else None,
        "store": sale.store.code,
        "channel": sale.channel,
        "total_fen": sale.total,
        "paid_fen": sale.cash_due + sale.stored_value_paid,
        "stored_value_fen": sale.stored_value_paid,
        "points_redeemed": sale.points_redeemed,
        "points_earned": sale.points_earned,
        "at": sale.occurred_at,
    }


def _record_sale(actor: Actor, priced: Priced, key: str) -> Sale:
    """The sale, its lines and its discounts: one statement on PostgreSQL (sales/sql.py).

    The Sale returned carries what was written (`recorded_lines`, `recorded_discounts`), so
    answering the request needs no second read.
    """
    result = priced.quote
    now = timezone.now()
    sale = Sale(
        merchant=actor.merchant,
        member=priced.member,
        store=priced.store,
        user=priced.seller.user if priced.seller else actor.user,
        api_key=actor.api_key,
        channel=actor.channel,
        idempotency_key=key,
        occurred_at=priced.occurred_at,
        created_at=now,
        subtotal=result.subtotal,
        member_discount=result.member_discount,
        discount=result.discount,
        points_redeemed=result.points_redeemed,
        points_value=result.points_value,
        total=result.total,
        stored_value_paid=result.stored_value_paid,
        cash_due=result.cash_due,
        points_earned=result.points_earned,
        saved=result.saved,
        codes=list(priced.request.codes),
    )
    row = {column: getattr(sale, column) for column in sql.SALE_COLUMNS if column != "codes"}
    row.update(
        occurred_at=rawsql.db_datetime(sale.occurred_at),
        created_at=rawsql.db_datetime(now),
        codes=json.dumps(sale.codes, ensure_ascii=False),
    )
    lines = sql.line_rows(
        result.lines,
        priced.request.lines,
        merchant_id=actor.merchant.pk,
        store_id=priced.store.pk,
        occurred_at=row["occurred_at"],
    )
    discounts = _discount_rows(priced)
    tenders = tender_rows(settled_tenders(priced))
    sale.pk = sql.record_sale(row, lines, discounts, tenders)
    sale._state.adding, sale._state.db = False, "default"
    # What the answer shows, as plain rows: building SaleLine instances cost more Python than
    # writing them (bench/sales.py).
    sale.recorded_lines = [SimpleNamespace(**line) for line in lines]
    sale.recorded_discounts = [SimpleNamespace(**discount) for discount in discounts]
    sale.recorded_tenders = [SimpleNamespace(**tender) for tender in tenders]
    return sale


def _discount_rows(priced: Priced) -> list[dict[str, Any]]:
    return [
        {
            "code": applied.code,
            "kind": applied.kind,
            "name": applied.name[:100],
            "benefit": applied.benefit,
            "amount": applied.amount,
            "coupon_id": priced.coupon_ids.get(applied.code) if applied.kind == "coupon" else None,
            "returned": False,
        }
        for applied in priced.quote.applied
    ]


def _consume_coupons(sale: Sale, priced: Priced) -> None:
    for applied in priced.quote.applied:
        if applied.kind != "coupon":
            continue
        won = coupons.consume_coupon(
            priced.coupon_ids[applied.code], sale_ref=str(sale.pk), at=priced.occurred_at
        )
        if not won:  # another sale used it between our quote and now
            raise Conflict(
                _("Coupon %s has just been used by another sale.") % applied.code,
                code="coupon_not_applicable",
            )
        emit(
            sale.merchant_id,
            events.COUPON_REDEEMED,
            {
                "coupon_id": priced.coupon_ids[applied.code],
                "code": applied.code,
                "sale_id": sale.pk,
                "member_id": sale.member_id,
                "discount_fen": applied.amount,
                "at": sale.occurred_at,
            },
            member_id=sale.member_id,
        )


def _move_value(actor: Actor, sale: Sale, priced: Priced) -> dict[str, Any]:
    """Points spent, stored value paid and points earned, posted together (ledger/postings.py:
    the member's accounts locked once, in key order, so two sales never deadlock). Returns
    the sale's columns that point at what was posted (set on `sale` too)."""
    member, result, settings = priced.member, priced.quote, priced.settings
    if member is None:
        return {}
    posted = postings.post_sale(
        actor,
        member,
        postings.SaleMoves(
            sale_id=sale.pk,
            store=sale.store,
            occurred_at=sale.occurred_at,
            points_spent=result.points_redeemed,
            stored_value=result.stored_value_paid,
            points_earned=result.points_earned,
            payment_split=settings.payment_split,
            expiry=settings.expiry,
            pending_days=settings.pending_days,
        ),
    )
    updates: dict[str, Any] = {}
    if posted.spend_id:
        updates["points_spend_id"] = posted.spend_id
    if posted.pay_id:
        updates["stored_value_payment_id"] = posted.pay_id
    if posted.earn_id:
        updates["points_earn_id"] = posted.earn_id
    if posted.hold is not None:
        updates["points_hold_id"], updates["points_pending"] = posted.hold.pk, True
    for name, value in updates.items():
        setattr(sale, name, value)
    return updates


def _visit(member: Member | None, sale: Sale) -> sql.Visit | None:
    if member is None:
        return None
    return sql.Visit(
        member.pk, member.merchant_id, sale.total, sale.occurred_at, sale.points_earned, sale.saved
    )


# --- refunds (F-23) --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundAsk:
    """`lines` as (sku, quantity) pairs, or everything still refundable."""

    lines: tuple[tuple[str, int], ...] = ()
    all: bool = False
    reason: str = ""


def _share(amount: int, done: int, of: int) -> int:
    """Cumulative proportional share: refunding all `of` units returns exactly `amount`."""
    return amount * done // of if of else 0


def _pick_lines(sale: Sale, ask: RefundAsk) -> list[tuple[SaleLine, int]]:
    lines = list(sale.lines.select_for_update().order_by("position"))
    if ask.all:
        picks = [(line, line.quantity - line.refunded_quantity) for line in lines]
        picks = [(line, q) for line, q in picks if q > 0]
        if not picks:
            raise DomainError(_("This sale has been refunded already."), "refund_exceeds_sale", 422)
        return picks
    if not ask.lines:
        raise ValidationFailed([FieldError("lines", _("Name the lines to refund, or all."))])
    picks: dict[int, int] = {}
    for index, (sku, quantity) in enumerate(ask.lines):
        if not _is_int(quantity) or quantity <= 0:
            raise ValidationFailed(
                [FieldError(f"lines[{index}].quantity", _("The quantity must be above 0."))]
            )
        wanted = quantity
        for line in lines:
            if line.sku != sku or wanted == 0:
                continue
            room = line.quantity - line.refunded_quantity - picks.get(line.pk, 0)
            take = min(room, wanted)
            if take > 0:
                picks[line.pk] = picks.get(line.pk, 0) + take
                wanted -= take
        if wanted:
            raise DomainError(
                _("Cannot refund %(quantity)d of %(sku)s: more than is left to refund.")
                % {"quantity": quantity, "sku": sku},
                "refund_exceeds_sale",
                422,
                errors=[FieldError(f"lines[{index}].quantity", _("More than was sold."))],
            )
    by_pk = {line.pk: line for line in lines}
    return [(by_pk[pk], quantity) for pk, quantity in picks.items()]


def _refuse_imported(sale: Sale) -> None:
    """History brought in by `patron import sales` took no money here: nothing to give back."""
    if sale.channel == IMPORTED_CHANNEL:
        raise Conflict(
            _("Sale %(sale)s is imported history: it took no payment here and cannot be refunded.")
            % {"sale": sale.pk},
            code="imported_sale_not_refundable",
        )


def refund_amount(actor: Actor, sale: Sale, ask: RefundAsk) -> int:
    """What refunding `ask` would give back (nothing written): for the till's confirmation
    step and its approval limit. Refuses what `refund_sale` would refuse."""
    if sale.merchant_id != actor.merchant.pk:
        raise NotFound(_("Sale not found"))
    _refuse_imported(sale)
    with transaction.atomic():
        picks = _pick_lines(sale, ask)
    return sum(
        _share(line.total, line.refunded_quantity + quantity, line.quantity)
        - _share(line.total, line.refunded_quantity, line.quantity)
        for line, quantity in picks
    )


def approval_limit(actor: Actor, sale: Sale) -> int | None:
    """Above how many fen this actor's refund of this sale needs a store manager; None: never.

    Only staff at a screen ask: store managers and HQ approve their own refunds, and the API
    (an integrator's system, with its own controls) and the command line never ask.
    """
    if actor.staff is None or actor.api_key is not None:
        return None
    if actor.role in (Role.HQ_ADMIN, Role.STORE_MANAGER):
        return None
    return sale.store.refund_approval_above


def needs_approval(actor: Actor, sale: Sale, amount: int) -> bool:
    limit = approval_limit(actor, sale)
    return limit is not None and amount > limit


def may_approve_refund(approver: Staff | None, sale: Sale) -> bool:
    """HQ, or a manager of the sale's store, active, of the same merchant."""
    if approver is None or not approver.is_active or not approver.user.is_active:
        return False
    if approver.merchant_id != sale.merchant_id:
        return False
    if approver.role == Role.HQ_ADMIN:
        return True
    return approver.role == Role.STORE_MANAGER and approver.store_id == sale.store_id


def _check_approval(actor: Actor, sale: Sale, amount: int, approver: Staff | None) -> None:
    if not needs_approval(actor, sale, amount):
        return
    if approver is None:
        raise DomainError(
            _("A refund above %(limit)s needs a store manager's approval.")
            % {"limit": yuan(sale.store.refund_approval_above)},
            "refund_needs_approval",
            403,
        )
    if not may_approve_refund(approver, sale) or approver.pk == actor.staff.pk:
        raise DomainError(
            _("Only a manager of this store or HQ can approve this refund."),
            "refund_approver_not_allowed",
            403,
        )


def refund_sale(
    actor: Actor,
    sale: Sale,
    ask: RefundAsk,
    *,
    key: str | None = None,
    approver: Staff | None = None,
) -> Refund:
    """Refund lines of a sale: money, points spent and stored value come back, points earned
    go back (what the member already used is recorded as a shortfall), coupons per policy.

    At the till a refund above the store's limit needs `approver` (a manager of the store or
    HQ, whose password the view checked); the approval is audited with both staff."""
    if sale.merchant_id != actor.merchant.pk:
        raise NotFound(_("Sale not found"))
    bound = actor.store_bound
    if bound is not None and sale.store_id != bound.pk:
        raise PermissionDenied(_("You can only refund sales of your own store."))
    _refuse_imported(sale)
    key = key or new_key()
    existing = selectors.refund_for_key(actor, key)
    if existing is not None:
        existing.replayed = True
        return existing
    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        picks = _pick_lines(sale, ask)
        refund = _record_refund(actor, sale, picks, key, ask.reason)
        _check_approval(actor, sale, refund.amount, approver)
        # Before the ledger: counters, then the member's accounts, in the order a sale locks them.
        promotion_limits.give_back(
            sale.pk,
            [(line.sku, line.category, quantity) for line, quantity in picks],
            full=lambda: not sale.lines.filter(refunded_quantity__lt=F("quantity")).exists(),
        )
        _return_value(actor, sale, refund)
        _update_sale_after_refund(actor, sale, refund)
        emit(
            sale.merchant_id,
            events.SALE_REFUNDED,
            _refund_data(sale, refund),
            member_id=sale.member_id,
        )
        if sale.member_id is not None:
            hooks.member_activity(actor, sale.member, "refund", {"sale": sale, "refund": refund})
        if needs_approval(actor, sale, refund.amount):
            _audit_approval(actor, sale, refund, approver)
    refund.replayed = False
    return refund


def _refund_data(sale: Sale, refund: Refund) -> dict[str, Any]:
    """The `sale.refunded` payload (one event per refund; `full`: nothing left to refund)."""
    return {
        "refund_id": refund.pk,
        "sale_id": sale.pk,
        "member_id": sale.member_id,
        "card_no": sale.member.card_no if sale.member_id is not None else None,
        "store": refund.store.code if refund.store_id else sale.store.code,
        "amount_fen": refund.amount,
        "points_reversed": refund.points_reversed,
        "full": sale.status == Sale.Status.REFUNDED,
        "at": refund.created_at,
    }


def _audit_approval(actor: Actor, sale: Sale, refund: Refund, approver: Staff) -> None:
    """Who refunded and who approved, both by name and id, with the amount and the limit."""
    audit(
        actor,
        AuditEntry.Action.CREATE,
        refund,
        {
            "sale": sale.pk,
            "amount": refund.amount,
            "limit": sale.store.refund_approval_above,
            "refunded_by": staff_name(actor.staff),
            "approved_by": staff_name(approver),
            "approved_by_staff": approver.pk,
        },
        label=_("Refund %(refund)s of sale %(sale)s, approved by %(name)s")
        % {"refund": refund.pk, "sale": sale.pk, "name": staff_name(approver)},
    )


def staff_name(staff: Staff | None) -> str:
    """A person's name as the till shows it: full name, else the user name."""
    if staff is None:
        return ""
    return staff.user.get_full_name() or staff.user.get_username()


def _record_refund(
    actor: Actor, sale: Sale, picks: list[tuple[SaleLine, int]], key: str, reason: str
) -> Refund:
    refund = Refund.objects.create(
        merchant=actor.merchant,
        sale=sale,
        idempotency_key=key,
        user=actor.user,
        api_key=actor.api_key,
        channel=actor.channel,
        store=actor.store_bound or sale.store,
        reason=(reason or "")[:200],
        amount=0,
    )
    rows = []
    for line, quantity in picks:
        before, after = line.refunded_quantity, line.refunded_quantity + quantity
        rows.append(
            RefundLine(
                refund=refund,
                sale_line=line,
                quantity=quantity,
                amount=_share(line.total, after, line.quantity)
                - _share(line.total, before, line.quantity),
                points_offset=_share(line.points_offset, after, line.quantity)
                - _share(line.points_offset, before, line.quantity),
                points_earned=_share(line.points_earned, after, line.quantity)
                - _share(line.points_earned, before, line.quantity),
            )
        )
        SaleLine.objects.filter(pk=line.pk).update(refunded_quantity=after)
    RefundLine.objects.bulk_create(rows)
    refund.amount = sum(row.amount for row in rows)
    refund.rows = rows
    return refund


def _refunded_before(sale: Sale, refund: Refund) -> dict[str, int]:
    earlier = RefundLine.objects.filter(refund__sale=sale).exclude(refund=refund)
    totals = {"amount": 0, "points_offset": 0}
    for amount, offset in earlier.values_list("amount", "points_offset"):
        totals["amount"] += amount
        totals["points_offset"] += offset
    return totals


def _return_value(actor: Actor, sale: Sale, refund: Refund) -> None:
    before = _refunded_before(sale, refund)
    offset_now = sum(row.points_offset for row in refund.rows)
    earned_back = sum(row.points_earned for row in refund.rows)
    amount_before, amount_after = before["amount"], before["amount"] + refund.amount
    stored_value = _share(sale.stored_value_paid, amount_after, sale.total) - _share(
        sale.stored_value_paid, amount_before, sale.total
    )
    offset_before = before["points_offset"]
    points_back = _share(sale.points_redeemed, offset_before + offset_now, sale.points_value) - (
        _share(sale.points_redeemed, offset_before, sale.points_value)
    )
    context = ledger.Context(
        store=refund.store, reason="refund", source="refund", source_ref=str(refund.pk)
    )
    if points_back and sale.points_spend_id:
        ledger.reverse(
            actor,
            sale.points_spend,
            key=f"refund:{refund.pk}:spend",
            amounts={Asset.POINTS: points_back},
            context=context,
        )
    if stored_value and sale.stored_value_payment_id:
        _return_stored_value(actor, sale, refund, stored_value, amount_before, context)
    refund.points_reversed, refund.points_shortfall = _take_back_earned(
        actor, sale, refund, earned_back, context
    )
    refund.points_returned = points_back
    refund.stored_value_returned = stored_value
    refund.cash_refunded = refund.amount - stored_value
    refund.tender_rows = _return_tenders(sale, refund)


def _return_tenders(sale: Sale, refund: Refund) -> list[RefundTender]:
    """Split the cash part of a refund over the sale's tenders, in proportion to what each
    still holds (paid less given back before), largest remainder first, fen-exact.

    Weighing by what is left rather than by what was paid keeps every tender within what it
    paid (a part of the rest never exceeds the rest) and makes the last refund return each
    exactly what is left; cumulative shares of the amounts paid could shrink a tender's share
    when the total grows (the Alabama paradox of largest remainders) and so owe money back.
    """
    if refund.cash_refunded <= 0:
        return []
    tenders = list(sale.tenders.order_by("position"))
    returned = dict(
        RefundTender.objects.filter(sale_tender__sale=sale)
        .exclude(refund=refund)
        .values("sale_tender")
        .annotate(total=Sum("amount"))
        .values_list("sale_tender", "total")
    )
    left = [tender.amount - returned.get(tender.pk, 0) for tender in tenders]
    # Never more than the tenders hold (a sale is refunded at most once in full).
    cash = min(refund.cash_refunded, sum(left))
    parts = allocate(cash, left) if cash else []
    rows = [
        RefundTender(refund=refund, sale_tender=tender, method=tender.method, amount=part)
        for tender, part in zip(tenders, parts, strict=True)
        if part
    ]
    RefundTender.objects.bulk_create(rows)
    return rows


def _return_stored_value(
    actor: Actor, sale: Sale, refund: Refund, amount: int, amount_before: int, context
) -> None:
    """Give back principal and bonus in the proportion the sale took them."""
    paid = {
        entry.asset: -entry.amount
        for entry in sale.stored_value_payment.entries.filter(member=sale.member)
    }
    returned_before = _share(sale.stored_value_paid, amount_before, sale.total)
    principal = paid.get(Asset.PRINCIPAL, 0)
    principal_back = _share(principal, returned_before + amount, sale.stored_value_paid) - _share(
        principal, returned_before, sale.stored_value_paid
    )
    ledger.reverse(
        actor,
        sale.stored_value_payment,
        key=f"refund:{refund.pk}:pay",
        amounts={Asset.PRINCIPAL: principal_back, Asset.BONUS: amount - principal_back},
        context=context,
    )


def _take_back_earned(
    actor: Actor, sale: Sale, refund: Refund, points: int, context
) -> tuple[int, int]:
    """(points taken back, points the member had already used: the shortfall)."""
    if points <= 0:
        return 0, 0
    if sale.points_hold_id:
        hold = sale.points_hold
        if hold.status == PointsHold.Status.PENDING:
            ledger.shrink_hold(actor, hold, points)
            return points, 0
        if hold.posted_as_id is None:
            return 0, 0
        original: Transaction = hold.posted_as
    elif sale.points_earn_id:
        original = sale.points_earn
    else:
        return 0, 0
    reversal = ledger.reverse(
        actor,
        original,
        key=f"refund:{refund.pk}:earn",
        amounts={Asset.POINTS: points},
        context=context,
    )
    if reversal is None:
        return 0, 0
    short = sum(Shortfall.objects.filter(transaction=reversal).values_list("amount", flat=True))
    return points - short, short


def _update_sale_after_refund(actor: Actor, sale: Sale, refund: Refund) -> None:
    left = sale.lines.filter(refunded_quantity__lt=F("quantity")).exists()
    sale.status = Sale.Status.PARTLY_REFUNDED if left else Sale.Status.REFUNDED
    sale.save(update_fields=["status"])
    returned = []
    if not left and checkout_policy(actor.merchant).refund_returns_coupons == "full_refund":
        for discount in sale.discounts.filter(coupon__isnull=False, returned=False):
            coupons.return_coupon(discount.coupon_id)
            discount.returned = True
            discount.save(update_fields=["returned"])
            returned.append(discount.code)
    refund.coupons_returned = returned
    refund.save(
        update_fields=[
            "amount",
            "cash_refunded",
            "stored_value_returned",
            "points_returned",
            "points_reversed",
            "points_shortfall",
            "coupons_returned",
        ]
    )
    if sale.member_id:
        MemberStats.objects.filter(member_id=sale.member_id).update(
            total_spend=F("total_spend") - refund.amount,
            refunds=F("refunds") + 1,
            average_ticket=(F("total_spend") - refund.amount) / Greatest(F("visits"), 1),
            points_earned=F("points_earned") - refund.points_reversed,
        )


def note_past_sales_changed(merchant: Merchant) -> None:
    """A sale already made was changed (given to a member): the per-day sums kept for the
    console home are summed again (sales.selectors.daily_sales). Call it in the change's
    transaction, so whoever reads the new number also reads the change."""
    PastSalesRevision.objects.get_or_create(merchant=merchant)
    PastSalesRevision.objects.filter(merchant=merchant).update(revision=F("revision") + 1)
