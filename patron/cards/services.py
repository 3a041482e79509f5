"""A card's life: issue, bind, report lost, replace, exchange, refund and close (F-06, F-08).

Every write runs in a transaction, is audited and leaves a `CardEvent` in the card's history.
Each takes an idempotency key: a replay answers with what the first call did (the key is kept
in the event's detail, and the fees' `CardPayment` rows hold keys derived from it).

A member's balances live in the ledger per member, never per card: replacing a card changes
the member's card number and nothing else (docs/cards.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards import selectors
from patron.cards.models import Card, CardEvent, CardPayment, CardProduct, CardStatus
from patron.cards.payments import checked_method, take_payment
from patron.core.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from patron.events import types as events
from patron.events.services import emit
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.members import services as members
from patron.members.models import Member
from patron.promotions import selectors as tiers
from patron.promotions.models import Tier, TierChange
from patron.promotions.services import change_member_tier
from patron.sales.models import MemberPin
from patron.sales.services import verify_pin
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Store
from patron.tenancy.services import audit
from patron.wallet import services as wallet

MAX_PHYSICAL_ID = 64


# --- helpers ---------------------------------------------------------------------------------


def replayed_event(actor: Actor, key: str) -> CardEvent | None:
    """The event a call with this key wrote, if any."""
    return (
        CardEvent.objects.filter(merchant=actor.merchant, detail__key=key)
        .select_related("card")
        .first()
    )


def _event(
    actor: Actor, card: Card, kind: str, key: str, store: Store | None = None, **detail: Any
) -> CardEvent:
    return CardEvent.objects.create(
        merchant=actor.merchant,
        card=card,
        member_id=card.member_id,
        kind=kind,
        detail={"key": key, **detail},
        store=store or actor.store_bound,
        user=actor.user,
        channel=actor.channel or "console",
    )


def _audit(actor: Actor, action: str, card: Card, changes: dict[str, list[Any]]) -> None:
    audit(actor, action, card, {"holder": [None, card.member_id], **changes}, label=card.card_no)


def clean_physical_id(raw: Any, field: str = "physical_id") -> str:
    """What a reader typed, trimmed; "" when nothing was given."""
    if raw in (None, ""):
        return ""
    text = str(raw).strip()
    if len(text) > MAX_PHYSICAL_ID or "\x00" in text or any(c.isspace() for c in text):
        raise ValidationFailed(
            [FieldError(field, _("A physical card id is up to 64 characters without spaces."))]
        )
    return text


def ensure_physical_id_free(actor: Actor, physical_id: str, card: Card | None = None) -> None:
    if not physical_id:
        return
    taken = Card.objects.filter(merchant=actor.merchant, physical_id=physical_id)
    if card is not None and card.pk:
        taken = taken.exclude(pk=card.pk)
    if taken.exists():
        raise Conflict(
            _("The physical card %s is already bound to another card.") % physical_id,
            "physical_id_taken",
            [FieldError("physical_id", _("This physical card is already bound to another card."))],
        )


def product_for_issue(actor: Actor, code: Any, field: str = "product") -> CardProduct:
    """The active card product `code` names; a paid membership is bought elsewhere."""
    product = None
    if isinstance(code, str) and code and len(code) <= 32:
        product = CardProduct.objects.filter(
            merchant=actor.merchant, code=code.strip(), is_active=True
        ).first()
    if product is None:
        message = _("Unknown card product %s.") % code
        raise DomainError(message, "unknown_product", 422, [FieldError(field, message)])
    if product.is_paid_membership:
        message = (
            _("%s is a paid membership: buy it on the member's page (memberships), not as a card.")
            % product.name
        )
        raise DomainError(message, "paid_membership", 422, [FieldError(field, message)])
    return product


def card_row(actor: Actor, card_no: str) -> Card:
    """The card as a row: a member's implicit card is written the first time it is needed."""
    card = selectors.card_for_number(actor, card_no)
    if card is None:
        raise NotFound(_("Card not found"))
    if card.pk is None:
        card, _created = Card.objects.get_or_create(
            merchant=actor.merchant,
            card_no=card.card_no,
            defaults={"member": card.member, "issued_at": card.issued_at},
        )
    return card


def locked_card(actor: Actor, card_no: str) -> Card:
    """The card, locked for this change."""
    card = card_row(actor, card_no)
    return (
        Card.objects.select_for_update(of=("self",))
        .select_related("member", "product")
        .get(pk=card.pk)
    )


def refuse_unless_live(card: Card) -> None:
    """Replaced and closed cards take no further step."""
    if card.status == CardStatus.REPLACED:
        raise Conflict(
            _("Card %s was replaced: it no longer works.") % card.card_no, "card_replaced"
        )
    if card.status == CardStatus.CLOSED:
        raise Conflict(
            _("Card %s was refunded and closed: it cannot be used, replaced or refunded again.")
            % card.card_no,
            "card_closed",
        )


def _member_rank(member: Member) -> int:
    tier = tiers.member_tier(member)
    return tier.rank if tier is not None else 0


def apply_starting_tier(actor: Actor, member: Member, card: Card) -> None:
    """The product's starting tier, only when it is above the member's (never a step down)."""
    product = card.product
    if product is None or not product.tier_code:
        return
    tier = Tier.objects.filter(
        merchant=actor.merchant, code=product.tier_code, is_active=True
    ).first()
    if tier is None or tier.rank <= _member_rank(member):
        return
    change_member_tier(
        actor,
        member,
        tier,
        TierChange.Reason.CARD_PRODUCT,
        detail={"card": card.card_no, "product": product.code},
    )


# --- issue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueRequest:
    product: str
    physical_id: str = ""
    payment_method: str | None = None
    topup: int = 0
    store: Store | None = None


def issue_card(actor: Actor, member: Member, request: IssueRequest, *, key: str) -> Card:
    """Issue a card of a product to the member on their card number (the registration's
    number, or a fresh one when their last card was closed), taking its fee.

    The fee is waived when a top-up of at least `fee_waived_by_topup` comes with the issue.
    """
    if (event := replayed_event(actor, key)) is not None:
        return event.card
    product = product_for_issue(actor, request.product)
    method = checked_method(request.payment_method)
    physical_id = clean_physical_id(request.physical_id)
    if request.topup < 0:
        raise ValidationFailed([FieldError("topup", _("A top-up cannot be negative."))])
    with transaction.atomic():
        card = _card_to_issue(actor, member)
        ensure_physical_id_free(actor, physical_id, card)
        now = timezone.now()
        waived = bool(
            product.fee
            and product.fee_waived_by_topup
            and request.topup >= product.fee_waived_by_topup
        )
        card.product = product
        card.physical_id = physical_id or card.physical_id
        card.status = CardStatus.ACTIVE
        card.issued_at = now
        card.valid_until = (
            now + dt.timedelta(days=product.validity_days) if product.validity_days else None
        )
        card.fee_paid = 0 if waived else product.fee
        card.fee_waived = waived
        card.store = request.store or actor.store_bound
        card.issued_by = actor.user
        try:
            with transaction.atomic():
                card.save()
        except IntegrityError:
            ensure_physical_id_free(actor, physical_id, card)
            raise
        topup_id = None
        if request.topup:
            txn = wallet.top_up(
                actor,
                member,
                request.topup,
                key=f"{key}:topup",
                payment_method=method,
                context=ledger.Context(store=card.store),
            )
            topup_id = txn.pk
        receipt = ""
        if card.fee_paid:
            payment = take_payment(
                actor,
                member,
                CardPayment.Kind.CARD_FEE,
                card.fee_paid,
                method=method,
                key=f"{key}:fee",
                store=card.store,
                card=card,
            )
            receipt = payment.receipt_no
        apply_starting_tier(actor, member, card)
        _event(
            actor,
            card,
            CardEvent.Kind.ISSUED,
            key,
            store=card.store,
            product=product.code,
            fee_paid=card.fee_paid,
            fee_waived=waived,
            topup=request.topup,
            topup_id=topup_id,
            method=method,
            receipt_no=receipt,
        )
        _audit(
            actor,
            AuditEntry.Action.CREATE,
            card,
            {
                "product": [None, product.code],
                "fee_paid": [None, card.fee_paid],
                "fee_waived": [None, waived],
                "physical_id": [None, card.physical_id or None],
            },
        )
    return card


def _card_to_issue(actor: Actor, member: Member) -> Card:
    """The member's current card when it has no product yet; a new number when it was closed.
    A card with a product already is not issued twice."""
    current = (
        Card.objects.select_for_update()
        .filter(merchant=actor.merchant, card_no=member.card_no)
        .first()
    )
    if current is None:
        return Card(
            merchant=actor.merchant, member=member, card_no=member.card_no, issued_at=timezone.now()
        )
    if current.status == CardStatus.LOST:
        raise Conflict(
            _("Card %s is reported lost: replace it instead of issuing another.") % current.card_no,
            "card_lost",
        )
    if current.status == CardStatus.CLOSED:
        number = members.allocate_card_numbers(actor.merchant, 1)[0]
        members.change_card_number(actor, member, number)
        return Card(
            merchant=actor.merchant, member=member, card_no=number, issued_at=timezone.now()
        )
    if current.product_id is not None:
        raise Conflict(
            _("The member already holds card %(card)s (%(product)s).")
            % {"card": current.card_no, "product": current.product.name},
            "card_exists",
        )
    return current


def issue_at_registration(actor: Actor, member: Member, data: dict[str, Any]) -> None:
    """After-registration step: the card of `card_product` on the new member's number."""
    code = data.get("card_product")
    physical_id = data.get("physical_id")
    if not code:
        if physical_id:
            bind_physical_id(actor, member.card_no, physical_id, key=f"register:{member.pk}:bind")
        return
    issue_card(
        actor,
        member,
        IssueRequest(
            product=code,
            physical_id=physical_id or "",
            payment_method=data.get("payment_method"),
            store=member.store,
        ),
        key=f"register:{member.pk}:card",
    )


def registration_errors(actor: Actor, data: Any, fields: Any) -> list[FieldError]:
    """Registration check: an unknown product, a bad tender or a malformed physical id stop
    the registration before anything is written (a taken physical id raises its conflict)."""
    errors: list[FieldError] = []
    if data.get("card_product"):
        try:
            product_for_issue(actor, data.get("card_product"), field="card_product")
        except DomainError as problem:
            errors += problem.errors
    if data.get("card_product") and data.get("payment_method"):  # the card fee's tender
        try:
            checked_method(data.get("payment_method"))
        except ValidationFailed as problem:
            errors += problem.errors
    try:
        physical_id = clean_physical_id(data.get("physical_id"))
    except DomainError as problem:
        errors += problem.errors
    else:
        # A card already holding it is a stored fact, not bad input: 409 physical_id_taken,
        # as when binding, so an integrator can tell "ask for another card" from a typo.
        ensure_physical_id_free(actor, physical_id)
    return errors


# --- bind, report lost -----------------------------------------------------------------------


def bind_physical_id(actor: Actor, card_no: str, raw: Any, *, key: str) -> Card:
    """Bind a physical card (magstripe, barcode or NFC id) to the card."""
    if (event := replayed_event(actor, key)) is not None:
        return event.card
    physical_id = clean_physical_id(raw)
    if not physical_id:
        raise ValidationFailed([FieldError("physical_id", _("Scan or type the physical card id."))])
    with transaction.atomic():
        card = locked_card(actor, card_no)
        refuse_unless_live(card)
        if card.status == CardStatus.LOST:
            raise Conflict(_("Card %s is reported lost.") % card.card_no, "card_lost")
        if card.physical_id == physical_id:
            return card
        ensure_physical_id_free(actor, physical_id, card)
        old = card.physical_id
        card.physical_id = physical_id
        card.save(update_fields=["physical_id", "updated_at"])
        _event(actor, card, CardEvent.Kind.BOUND, key, physical_id=physical_id, was=old)
        _audit(actor, AuditEntry.Action.UPDATE, card, {"physical_id": [old or None, physical_id]})
    return card


def report_lost(actor: Actor, card_no: str, *, reason: str = "", key: str) -> Card:
    """Freeze the card at once: its member may not pay with stored value or points until the
    card is replaced. Reporting a lost card again changes nothing."""
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        card = locked_card(actor, card_no)
        refuse_unless_live(card)
        if card.status == CardStatus.LOST:
            return card
        card.status = CardStatus.LOST
        card.lost_at = timezone.now()
        card.save(update_fields=["status", "lost_at", "updated_at"])
        _event(actor, card, CardEvent.Kind.LOST, key, reason=reason)
        _audit(
            actor,
            AuditEntry.Action.UPDATE,
            card,
            {
                "status": [CardStatus.ACTIVE, CardStatus.LOST],
                "lost_at": [None, card.lost_at],
                **({"reason": [None, reason]} if reason else {}),
            },
        )
        emit(
            card.merchant_id,
            events.CARD_LOST,
            {"member_id": card.member_id, "card_no": card.card_no, "at": card.lost_at},
            member_id=card.member_id,
        )
    return card


# --- replace, exchange -----------------------------------------------------------------------


def replace_fee(card: Card) -> int:
    return card.product.replace_fee if card.product_id else 0


def replace_allowed_from(card: Card) -> dt.datetime | None:
    """When a lost card may be replaced (its product's waiting period after the report)."""
    wait = card.product.replace_wait_days if card.product_id else 0
    if not wait:
        return None
    return (card.lost_at or timezone.now()) + dt.timedelta(days=wait)


def replace_card(
    actor: Actor,
    card_no: str,
    *,
    physical_id: Any = None,
    payment_method: str | None = None,
    damaged: bool = False,
    key: str,
) -> Card:
    """A new card number for the member in place of a lost card (or, `damaged`, a card handed
    back broken): the replacement fee is taken, the old card becomes `replaced`.

    Nothing moves in the ledger: balances, points, coupons, tier and history are the member's.
    """
    if (event := replayed_event(actor, key)) is not None:
        return Card.objects.get(pk=event.detail["new_card_id"])
    new_physical = clean_physical_id(physical_id)
    method = checked_method(payment_method)
    with transaction.atomic():
        old = locked_card(actor, card_no)
        if (event := replayed_event(actor, key)) is not None:  # the same call, just committed
            return Card.objects.get(pk=event.detail["new_card_id"])
        refuse_unless_live(old)
        if damaged and old.status == CardStatus.LOST:
            raise Conflict(
                _("Card %s is reported lost: replace it rather than exchange it.") % old.card_no,
                "card_lost",
            )
        if not damaged and (allowed := replace_allowed_from(old)) is not None:
            if old.status != CardStatus.LOST:
                raise Conflict(
                    _("Report card %s lost first: it can be replaced %d days after that.")
                    % (old.card_no, old.product.replace_wait_days),
                    "replace_waiting",
                )
            if timezone.now() < allowed:
                raise Conflict(
                    _("Card %(card)s can be replaced from %(when)s (waiting period).")
                    % {
                        "card": old.card_no,
                        "when": timezone.localtime(allowed).strftime("%Y-%m-%d %H:%M"),
                    },
                    "replace_waiting",
                )
        if new_physical and new_physical == old.physical_id:
            raise Conflict(
                _("The physical card %s belongs to the old card: scan the new one.") % new_physical,
                "physical_id_taken",
                [FieldError("physical_id", _("This is the old card's physical id."))],
            )
        ensure_physical_id_free(actor, new_physical)
        member = Member.objects.select_for_update().get(pk=old.member_id)
        number = members.allocate_card_numbers(actor.merchant, 1)[0]
        new = Card.objects.create(
            merchant=actor.merchant,
            member=member,
            product=old.product,
            card_no=number,
            physical_id=new_physical,
            status=CardStatus.ACTIVE,
            store=actor.store_bound or old.store,
            issued_at=timezone.now(),
            valid_until=old.valid_until,
            # The card fee paid once goes with the card the member holds (a refund returns it).
            fee_paid=old.fee_paid,
            fee_waived=old.fee_waived,
            issued_by=actor.user,
        )
        before = old.status
        old.status = CardStatus.REPLACED
        old.replaced_by = new
        old.save(update_fields=["status", "replaced_by", "updated_at"])
        if member.card_no == old.card_no:
            members.change_card_number(actor, member, number)
        fee = replace_fee(old)
        receipt = ""
        if fee:
            receipt = take_payment(
                actor,
                member,
                CardPayment.Kind.REPLACE_FEE,
                fee,
                method=method,
                key=f"{key}:fee",
                card=new,
            ).receipt_no
        kind = CardEvent.Kind.EXCHANGED if damaged else CardEvent.Kind.REPLACED
        reason = "damaged" if damaged else "lost"
        detail = {"new_card_id": new.pk, "new_card": number, "fee": fee, "method": method}
        _event(actor, old, kind, key, reason=reason, receipt_no=receipt, **detail)
        _event(actor, new, CardEvent.Kind.ISSUED, f"{key}:new", replaces=old.card_no, fee=fee)
        _audit(
            actor,
            AuditEntry.Action.UPDATE,
            old,
            {
                "status": [before, CardStatus.REPLACED],
                "replaced_by": [None, number],
                "reason": [None, reason],
            },
        )
        _audit(
            actor,
            AuditEntry.Action.CREATE,
            new,
            {"in_place_of": [None, old.card_no], "physical_id": [None, new_physical or None]},
        )
        emit(
            new.merchant_id,
            events.CARD_REPLACED,
            {
                "member_id": member.pk,
                "old_card_no": old.card_no,
                "card_no": number,
                "reason": reason,
                "fee_fen": fee,
                "at": new.issued_at,
            },
            member_id=member.pk,
        )
    return new


# --- refund and close ------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundPreview:
    principal: int
    bonus: int
    bonus_returned: bool
    fee: int  # the card fee given back (0 when the rule keeps it)
    needs_pin: bool

    @property
    def bonus_forfeited(self) -> int:
        return 0 if self.bonus_returned else self.bonus

    @property
    def total(self) -> int:
        return self.principal + (self.bonus if self.bonus_returned else 0) + self.fee


@dataclass(frozen=True)
class RefundResult:
    card: Card
    principal_returned: int
    bonus_forfeited: int
    bonus_returned: int
    fee_returned: int


def refund_rule(card: Card) -> dict[str, Any]:
    rule = {"fee": False, "bonus": "forfeit", "allowed": True}
    if card.product_id:
        rule.update(card.product.refund or {})
    return rule


def preview_refund(card: Card) -> RefundPreview:
    """What refunding the card would give back now (the wizard shows it before confirming)."""
    rule = refund_rule(card)
    balances = ledger_selectors.member_balances(card.member)["stored_value"]
    return RefundPreview(
        principal=balances["principal"],
        bonus=balances["bonus"],
        bonus_returned=rule.get("bonus") == "keep",
        fee=card.fee_paid if rule.get("fee") else 0,
        needs_pin=MemberPin.objects.filter(member_id=card.member_id).exists(),
    )


def _refund_from_event(event: CardEvent) -> RefundResult:
    d = event.detail
    return RefundResult(
        card=event.card,
        principal_returned=d["principal_returned"],
        bonus_forfeited=d["bonus_forfeited"],
        bonus_returned=d.get("bonus_returned", 0),
        fee_returned=d["fee_returned"],
    )


def refund_card(
    actor: Actor,
    card_no: str,
    *,
    identity_checked: Any,
    pin: str | None = None,
    payment_method: str | None = None,
    key: str,
) -> RefundResult:
    """Close the card and give back its stored value's principal (the bonus is forfeited,
    or paid out too under `refund.bonus: keep`) and, under `refund.fee`, the card fee.

    The member's identity must have been checked; a member with a PIN must give it.
    """
    if (event := replayed_event(actor, key)) is not None:
        return _refund_from_event(event)
    if identity_checked is not True:
        raise DomainError(
            _("Check the member's identity document before refunding the card."),
            "identity_not_checked",
            422,
            [FieldError("identity_checked", _("Confirm that you checked the member's identity."))],
        )
    card = selectors.card_for_number(actor, card_no)  # written only once the checks pass
    if card is None:
        raise NotFound(_("Card not found"))
    refuse_unless_live(card)
    if not refund_rule(card).get("allowed", True):
        raise Conflict(
            _("Cards of %s cannot be refunded.") % card.product.name, "refund_not_allowed"
        )
    if MemberPin.objects.filter(member_id=card.member_id).exists():
        # Before the refund's transaction: a wrong PIN is counted even though nothing else is.
        verify_pin(actor, card.member, pin)
    with transaction.atomic():
        card = locked_card(actor, card_no)
        if (event := replayed_event(actor, key)) is not None:  # the same call, just committed
            return _refund_from_event(event)
        refuse_unless_live(card)
        rule = refund_rule(card)
        member = card.member
        keep_bonus = rule.get("bonus") == "keep"
        txn = ledger.refund_card(
            actor,
            member,
            key=f"{key}:ledger",
            context=ledger.Context(store=actor.store_bound, reason="card_refund"),
            return_bonus=keep_bonus,
        )
        principal = bonus = 0
        if txn is not None:
            for entry in txn.entries.filter(member=member):
                if entry.asset == "stored_value.principal":
                    principal -= entry.amount
                elif entry.asset == "stored_value.bonus":
                    bonus -= entry.amount
        fee = card.fee_paid if rule.get("fee") else 0
        receipt = ""
        if fee:
            receipt = take_payment(
                actor,
                member,
                CardPayment.Kind.FEE_REFUND,
                -fee,
                method=checked_method(payment_method or _fee_method(card)),
                key=f"{key}:fee",
                card=card,
            ).receipt_no
        before = card.status
        card.status = CardStatus.CLOSED
        card.closed_at = timezone.now()
        card.save(update_fields=["status", "closed_at", "updated_at"])
        result = RefundResult(
            card=card,
            principal_returned=principal,
            bonus_forfeited=0 if keep_bonus else bonus,
            bonus_returned=bonus if keep_bonus else 0,
            fee_returned=fee,
        )
        _event(
            actor,
            card,
            CardEvent.Kind.REFUNDED,
            key,
            principal_returned=principal,
            bonus_forfeited=result.bonus_forfeited,
            bonus_returned=result.bonus_returned,
            fee_returned=fee,
            receipt_no=receipt,
            transaction=txn.pk if txn is not None else None,
        )
        _audit(
            actor,
            AuditEntry.Action.UPDATE,
            card,
            {
                "status": [before, CardStatus.CLOSED],
                "closed_at": [None, card.closed_at],
                "principal_returned": [None, principal],
                "fee_returned": [None, fee],
            },
        )
    return result


def _fee_method(card: Card) -> str:
    """A fee goes back the way it came (the issue's tender), cash when unknown."""
    paid = CardPayment.objects.filter(card=card, kind=CardPayment.Kind.CARD_FEE).first()
    if paid is None and hasattr(card, "replaces"):
        return _fee_method(card.replaces)
    return paid.method if paid is not None else "cash"
