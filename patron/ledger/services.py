"""Every movement of points and stored value (DESIGN.md §3).

All writes go through `post()`: it checks that entries balance per asset, takes the member
account rows' locks in primary-key order (no deadlocks), refuses to take a member balance below
zero, and records the transaction under a per-merchant idempotency key so a retried write is
applied once. The functions above it (top up, pay, earn, spend, expire, adjust, reverse, refund)
only decide which legs to post.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, DomainError, PermissionDenied
from patron.engine.money import allocate
from patron.engine.points import ExpiryPolicy, lot_expires_at
from patron.engine.stored_value import BonusRow, split_payment, topup_bonus
from patron.ledger import guards, payments, sql
from patron.ledger.errors import AmountInvalid, InsufficientFunds, MemberFrozen
from patron.ledger.models import (
    Account,
    Asset,
    Entry,
    LedgerPolicy,
    LotMovement,
    OwnerType,
    PointsHold,
    PointsLot,
    Shortfall,
    SystemAccount,
    Transaction,
)
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Store
from patron.tenancy.services import audit

if TYPE_CHECKING:
    from patron.members.models import Member

Kind = Transaction.Kind
ADJUSTING_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER}


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: int


@dataclass(frozen=True)
class Context:
    """Where, why and when a movement happens (copied onto the transaction)."""

    store: Store | None = None
    reason: str = ""
    source: str = ""
    source_ref: str = ""
    occurred_at: dt.datetime | None = None


# --- accounts --------------------------------------------------------------------------------


def policy_for(merchant: Merchant) -> LedgerPolicy:
    # Fixed-shape reads on the hot path use raw(): same model instances, no query compiling.
    found = list(LedgerPolicy.objects.raw(sql.POLICY.text(), [merchant.pk]))
    return found[0] if found else LedgerPolicy(merchant=merchant, points={}, topup_bonus=[])


def resolve_accounts(
    merchant: Merchant,
    member: Member,
    member_assets: Sequence[str],
    system_pairs: Sequence[tuple[str, str]],
) -> dict[tuple[str, str], Account]:
    """The accounts a posting needs, in one query: keyed (asset, "member") or (asset, code).

    Missing ones (a member's first top-up, a merchant's first expiry) are created.
    """
    system_assets = sorted({asset for asset, _code in system_pairs})
    codes = sorted({code for _asset, code in system_pairs})
    query = sql.accounts_statement(len(member_assets), len(system_assets), len(codes))
    params = [merchant.pk, member.pk, *member_assets, *system_assets, *codes]
    found = {
        (a.asset, "member" if a.owner_type == OwnerType.MEMBER else a.system_code): a
        for a in Account.objects.raw(query.text(), params)
    }
    for asset in member_assets:
        if (asset, "member") not in found:
            found[(asset, "member")] = member_account(member, asset)
    for asset, code in system_pairs:
        if (asset, code) not in found:
            found[(asset, code)] = system_account(merchant, asset, code)
    return found


def member_account(member: Member, asset: str) -> Account:
    account = Account.objects.filter(
        merchant_id=member.merchant_id, asset=asset, owner_type=OwnerType.MEMBER, member=member
    ).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                merchant_id=member.merchant_id,
                asset=asset,
                owner_type=OwnerType.MEMBER,
                member=member,
            )
    except IntegrityError:  # created by a concurrent request a moment ago
        return Account.objects.get(
            merchant_id=member.merchant_id, asset=asset, owner_type=OwnerType.MEMBER, member=member
        )


def system_account(merchant: Merchant | int, asset: str, code: str) -> Account:
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    account = Account.objects.filter(
        merchant_id=merchant_id, asset=asset, owner_type=OwnerType.SYSTEM, system_code=code
    ).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                merchant_id=merchant_id, asset=asset, owner_type=OwnerType.SYSTEM, system_code=code
            )
    except IntegrityError:
        return Account.objects.get(
            merchant_id=merchant_id, asset=asset, owner_type=OwnerType.SYSTEM, system_code=code
        )


# --- the one posting function ----------------------------------------------------------------


def _check_legs(merchant: Merchant, legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise ValueError("a transaction needs at least two entries")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if leg.account.merchant_id != merchant.pk:
            raise ValueError("entries must stay within one merchant")
        if leg.amount == 0:
            raise ValueError("an entry of zero means nothing")
        totals[leg.account.asset] += leg.amount
    unbalanced = {asset: total for asset, total in totals.items() if total}
    if unbalanced:
        raise ValueError(f"entries do not balance: {unbalanced}")


def _existing(merchant: Merchant, key: str, kind: str, member: Member | None) -> Transaction:
    found = Transaction.objects.get(merchant=merchant, idempotency_key=key)
    if found.kind != kind or found.member_id != (member.pk if member else None):
        raise Conflict(
            _("This idempotency key was already used for another movement."), "idempotency_conflict"
        )
    found.replayed = True
    return found


def apply_balance_changes(changes: dict[int, int], assets: dict[int, str]) -> None:
    """Move member balances in primary-key order (no deadlocks).

    One guarded UPDATE per account both takes the row lock and refuses to go below zero, so
    the common path needs no SELECT ... FOR UPDATE first.
    """
    for account_id in sorted(changes):
        change = changes[account_id]
        if not sql.move_balance(account_id, change):
            available = Account.objects.values_list("balance", flat=True).get(pk=account_id)
            raise InsufficientFunds(assets[account_id], -change, available)


def lock_member_accounts(accounts: Iterable[Account]) -> dict[int, Account]:
    """Lock member accounts in primary-key order and return them fresh from the database."""
    ids = sorted({a.pk for a in accounts if a.owner_type == OwnerType.MEMBER})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def new_transaction(
    actor: Actor,
    kind: str,
    key: str,
    member: Member | None,
    context: Context,
    reverses: Transaction | None = None,
) -> Transaction:
    """An unsaved transaction row carrying who, where, why and when."""
    return Transaction(
        merchant=actor.merchant,
        kind=kind,
        idempotency_key=key,
        member=member,
        store=context.store,
        user=actor.user,
        api_key=actor.api_key,
        channel=actor.channel,
        ip=actor.ip,
        reason=context.reason[:200],
        source=context.source,
        source_ref=context.source_ref[:64],
        reverses=reverses,
        occurred_at=context.occurred_at or timezone.now(),
    )


def post(
    actor: Actor,
    *,
    kind: str,
    key: str,
    legs: Sequence[Leg],
    member: Member | None,
    context: Context = Context(),
    reverses: Transaction | None = None,
    before_entries=None,
) -> Transaction:
    """Record one balanced transaction, or return the one already recorded under `key`.

    `before_entries(transaction)` runs after the member balances moved (their rows are locked
    until commit) and before the entries are written: lot bookkeeping uses it so lots change
    under the same lock.
    """
    _check_legs(actor.merchant, legs)
    if not key or len(key) > 255:
        raise AmountInvalid(_("An idempotency key of 1 to 255 characters is required."), "key")
    txn = new_transaction(actor, kind, key, member, context, reverses)
    occurred_at = txn.occurred_at
    with transaction.atomic():
        try:
            with transaction.atomic():
                txn.pk, txn.created_at = sql.insert_transaction(
                    {
                        "merchant_id": actor.merchant.pk,
                        "kind": kind,
                        "idempotency_key": key,
                        "member_id": txn.member_id,
                        "store_id": txn.store_id,
                        "user_id": txn.user_id,
                        "api_key_id": txn.api_key_id,
                        "channel": txn.channel,
                        "ip": txn.ip,
                        "reason": txn.reason,
                        "source": txn.source,
                        "source_ref": txn.source_ref,
                        "reverses_id": txn.reverses_id,
                        "occurred_at": occurred_at,
                    }
                )
        except IntegrityError:
            return _existing(actor.merchant, key, kind, member)
        txn._state.adding, txn._state.db = False, "default"
        changes: dict[int, int] = defaultdict(int)
        assets: dict[int, str] = {}
        for leg in legs:
            if leg.account.owner_type == OwnerType.MEMBER:
                changes[leg.account.pk] += leg.amount
                assets[leg.account.pk] = leg.account.asset
        apply_balance_changes(changes, assets)
        if before_entries is not None:
            before_entries(txn)
        sql.insert_entries(
            [
                (
                    txn.pk,
                    leg.account.pk,
                    leg.account.asset,
                    leg.amount,
                    member.pk if member is not None and leg.account.pk in changes else None,
                    occurred_at,
                )
                for leg in legs
            ]
        )
    txn.replayed = False
    return txn


# --- guards ----------------------------------------------------------------------------------


def ensure_active(member: Member) -> None:
    if not member.is_active:
        raise MemberFrozen()


def ensure_positive(amount: object, field: str = "amount", maximum: int | None = None) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountInvalid(_("Amounts are whole numbers (fen or points)."), field)
    if amount <= 0:
        raise AmountInvalid(_("The amount must be greater than zero."), field)
    if maximum is not None and amount > maximum:
        message = (
            _("The amount may be at most %d points.")
            if field == "points"
            else _("The amount may be at most %d fen.")
        ) % maximum
        raise AmountInvalid(message, field)
    return amount


def ensure_same_merchant(actor: Actor, member: Member) -> None:
    if member.merchant_id != actor.merchant.pk:
        from patron.core.errors import NotFound

        raise NotFound("Member not found")


# --- stored value ----------------------------------------------------------------------------


def top_up(
    actor: Actor,
    member: Member,
    amount: int,
    *,
    key: str,
    payment_method: str = "cash",
    context: Context = Context(),
) -> Transaction:
    """Principal = what was paid; bonus per the `topup_bonus` table (highest matching row)."""
    ensure_same_merchant(actor, member)
    ensure_active(member)
    policy = policy_for(actor.merchant)
    ensure_positive(amount, maximum=policy.max_topup)
    bonus = topup_bonus(amount, [BonusRow(**row) for row in policy.topup_bonus])
    pairs = [(Asset.PRINCIPAL, SystemAccount.CASH)]
    if bonus:
        pairs.append((Asset.BONUS, SystemAccount.BONUS_ISSUED))
    accounts = resolve_accounts(actor.merchant, member, [asset for asset, _ in pairs], pairs)
    legs = [
        Leg(accounts[(Asset.PRINCIPAL, "member")], amount),
        Leg(accounts[(Asset.PRINCIPAL, SystemAccount.CASH)], -amount),
    ]
    if bonus:
        legs += [
            Leg(accounts[(Asset.BONUS, "member")], bonus),
            Leg(accounts[(Asset.BONUS, SystemAccount.BONUS_ISSUED)], -bonus),
        ]
    context = Context(
        **{
            **context.__dict__,
            "source": context.source or "topup",
            # The method in the tenders' spelling: the shift close counts top-ups by it.
            "reason": context.reason or payments.canonical(payment_method),
        }
    )
    return post(actor, kind=Kind.TOPUP, key=key, legs=legs, member=member, context=context)


def pay_stored_value(
    actor: Actor, member: Member, amount: int, *, key: str, context: Context = Context()
) -> Transaction:
    """Pay `amount` fen from the member's stored value, split per the merchant's rule."""
    ensure_same_merchant(actor, member)
    ensure_active(member)
    ensure_positive(amount)
    policy = policy_for(actor.merchant)
    principal = member_account(member, Asset.PRINCIPAL)
    bonus = member_account(member, Asset.BONUS)
    merchant = actor.merchant

    def legs_for(principal_balance: int, bonus_balance: int) -> list[Leg]:
        if amount > principal_balance + bonus_balance:
            raise InsufficientFunds(Asset.PRINCIPAL, amount, principal_balance + bonus_balance)
        from_principal, from_bonus = split_payment(
            amount, principal_balance, bonus_balance, policy.payment_split
        )
        legs = []
        if from_principal:
            legs += [
                Leg(principal, -from_principal),
                Leg(system_account(merchant, Asset.PRINCIPAL, SystemAccount.SALES), from_principal),
            ]
        if from_bonus:
            legs += [
                Leg(bonus, -from_bonus),
                Leg(system_account(merchant, Asset.BONUS, SystemAccount.SALES), from_bonus),
            ]
        return legs

    # The split depends on balances, so read them under the lock first (same transaction).
    with transaction.atomic():
        existing = Transaction.objects.filter(merchant=merchant, idempotency_key=key).first()
        if existing is not None:
            return _existing(merchant, key, Kind.PAY, member)
        guards.check_may_spend(merchant.pk, member.pk)
        locked = lock_member_accounts([principal, bonus])
        legs = legs_for(locked[principal.pk].balance, locked[bonus.pk].balance)
        return post(
            actor,
            kind=Kind.PAY,
            key=key,
            legs=legs,
            member=member,
            context=Context(**{**context.__dict__, "source": context.source or "sale"}),
        )


def refund_card(
    actor: Actor,
    member: Member,
    *,
    key: str,
    context: Context = Context(),
    return_bonus: bool = False,
) -> Transaction | None:
    """Close out stored value: principal goes back in cash, the bonus is forfeited (F-14),
    or paid out in cash too when the card's refund rule says `bonus: keep`."""
    ensure_same_merchant(actor, member)
    principal = member_account(member, Asset.PRINCIPAL)
    bonus = member_account(member, Asset.BONUS)
    merchant = actor.merchant
    with transaction.atomic():
        existing = Transaction.objects.filter(merchant=merchant, idempotency_key=key).first()
        if existing is not None:
            return _existing(merchant, key, Kind.CARD_REFUND, member)
        locked = lock_member_accounts([principal, bonus])
        legs = []
        if p := locked[principal.pk].balance:
            legs += [
                Leg(principal, -p),
                Leg(system_account(merchant, Asset.PRINCIPAL, SystemAccount.CASH), p),
            ]
        if b := locked[bonus.pk].balance:
            legs += [
                Leg(bonus, -b),
                Leg(
                    system_account(
                        merchant,
                        Asset.BONUS,
                        SystemAccount.CASH if return_bonus else SystemAccount.FORFEITED,
                    ),
                    b,
                ),
            ]
        if not legs:
            return None
        return post(
            actor,
            kind=Kind.CARD_REFUND,
            key=key,
            legs=legs,
            member=member,
            context=Context(**{**context.__dict__, "source": context.source or "card_refund"}),
        )


# --- points ----------------------------------------------------------------------------------


def expiry_policy(merchant: Merchant) -> ExpiryPolicy:
    expiry = policy_for(merchant).points_policy()["expiry"]
    return ExpiryPolicy(expiry.get("policy", "end_of_next_year"), int(expiry.get("days", 0)))


def _new_lot(member: Member, txn: Transaction, points: int, earned_at: dt.datetime) -> PointsLot:
    merchant = member.merchant
    expires_at = lot_expires_at(expiry_policy(merchant), earned_at, merchant.timezone)
    lot = PointsLot.objects.create(
        merchant=merchant,
        member=member,
        earned_by=txn,
        earned_at=earned_at,
        expires_at=expires_at,
        amount=points,
        remaining=points,
    )
    LotMovement.objects.create(lot=lot, transaction=txn, amount=points)
    return lot


def usable_lots(member: Member, at: dt.datetime | None = None):
    """Lots with points left that have not expired at `at` (or ever, with no `at`)."""
    lots = PointsLot.objects.filter(member=member, remaining__gt=0)
    if at is not None:
        lots = lots.filter(Q(expires_at__gt=at) | Q(expires_at__isnull=True))
    return lots.order_by(F("expires_at").asc(nulls_last=True), "earned_at", "pk")


def consume_lots(
    member: Member,
    txn: Transaction,
    points: int,
    first: Sequence[PointsLot] = (),
    usable_at: dt.datetime | None = None,
) -> None:
    """Take `points` from the member's lots, `first` ones first, then FIFO by expiry.

    With `usable_at`, lots already expired at that moment are not touched (a member cannot
    spend points that have expired even if the nightly expiry has not swept them yet).
    Called only while the member's points account is locked, which serialises every change
    to this member's lots.
    """
    first_ids = {lot.pk for lot in first}
    ordered = list(first) + [
        lot for lot in usable_lots(member, usable_at) if lot.pk not in first_ids
    ]
    left = points
    for lot in ordered:
        if left == 0:
            break
        lot.refresh_from_db(fields=["remaining"])
        take = min(lot.remaining, left)
        if take <= 0:
            continue
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        LotMovement.objects.create(lot=lot, transaction=txn, amount=-take)
        left -= take
    if left and usable_at is not None:
        raise InsufficientFunds(Asset.POINTS, points, points - left)
    if left:
        raise RuntimeError("lot remainders and the points balance disagree; run reconcile")


def earn_points(
    actor: Actor,
    member: Member,
    points: int,
    *,
    key: str,
    context: Context = Context(),
    pending_days: int | None = None,
) -> Transaction | PointsHold:
    """Credit points as a new lot, or as a pending hold when the program has a return window.

    The lot's dates (and so its expiry) come from `context.occurred_at` (the sale's time).
    """
    ensure_same_merchant(actor, member)
    ensure_positive(points, "points")
    earned_at = context.occurred_at or timezone.now()
    if pending_days is None:
        pending_days = int(policy_for(actor.merchant).points_policy().get("pending_days", 0))
    if pending_days > 0:
        return _hold_points(
            actor,
            member,
            points,
            key=key,
            context=context,
            earned_at=earned_at,
            release_at=earned_at + dt.timedelta(days=pending_days),
        )
    return _post_earn(
        actor,
        member,
        points,
        key=key,
        context=Context(**{**context.__dict__, "occurred_at": earned_at}),
    )


# Where the points of a new lot come from, by the kind of transaction that credits them.
CREDITED_FROM = {
    Kind.EARN: SystemAccount.ISSUED,
    Kind.ADJUST: SystemAccount.ADJUSTMENT,
    Kind.ALLIANCE_IN: SystemAccount.ALLIANCE,
}
# Where spent points go, by the kind of transaction that takes them.
SPENT_INTO = {Kind.SPEND: SystemAccount.REDEEMED, Kind.ALLIANCE_OUT: SystemAccount.ALLIANCE}


def _post_earn(
    actor: Actor, member: Member, points: int, *, key: str, context: Context, kind: str = Kind.EARN
) -> Transaction:
    legs = [
        Leg(member_account(member, Asset.POINTS), points),
        Leg(system_account(actor.merchant, Asset.POINTS, CREDITED_FROM[kind]), -points),
    ]
    return post(
        actor,
        kind=kind,
        key=key,
        legs=legs,
        member=member,
        context=context,
        before_entries=lambda txn: _new_lot(
            member, txn, points, context.occurred_at or txn.occurred_at
        ),
    )


def _hold_points(
    actor: Actor,
    member: Member,
    points: int,
    *,
    key: str,
    context: Context,
    earned_at: dt.datetime,
    release_at: dt.datetime,
) -> PointsHold:
    hold, _created = PointsHold.objects.get_or_create(
        merchant=actor.merchant,
        idempotency_key=key,
        defaults={
            "member": member,
            "points": points,
            "earned_at": earned_at,
            "release_at": release_at,
            "store": context.store,
            "source": context.source,
            "source_ref": context.source_ref,
            "reason": context.reason[:200],
        },
    )
    return hold


def spend_points(
    actor: Actor,
    member: Member,
    points: int,
    *,
    key: str,
    context: Context = Context(),
    kind: str = Kind.SPEND,
) -> Transaction:
    """Take points from the member's lots, first to expire first (`kind`: a spend into
    `redeemed`, or points leaving for an alliance partner into `alliance`)."""
    ensure_same_merchant(actor, member)
    ensure_active(member)
    ensure_positive(points, "points")
    if not Transaction.objects.filter(merchant=actor.merchant, idempotency_key=key).exists():
        guards.check_may_spend(actor.merchant.pk, member.pk)  # a replay answers as it did
    legs = [
        Leg(member_account(member, Asset.POINTS), -points),
        Leg(system_account(actor.merchant, Asset.POINTS, SPENT_INTO[kind]), points),
    ]
    return post(
        actor,
        kind=kind,
        key=key,
        legs=legs,
        member=member,
        context=context,
        before_entries=lambda txn: consume_lots(member, txn, points, usable_at=txn.occurred_at),
    )


def adjust_points(
    actor: Actor, member: Member, delta: int, *, reason: str, key: str, context: Context = Context()
) -> Transaction:
    """A manual correction with a mandatory reason; HQ admins and store managers only."""
    ensure_same_merchant(actor, member)
    ensure_active(member)
    if actor.staff is not None and actor.role not in ADJUSTING_ROLES:
        raise PermissionDenied(_("Only HQ admins and store managers may adjust points."))
    if not reason or not reason.strip():
        raise AmountInvalid(_("A reason is required for a manual adjustment."), "reason")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise AmountInvalid(
            _("The adjustment must be a non-zero whole number of points."), "points"
        )
    limit = policy_for(actor.merchant).max_adjust_points
    if abs(delta) > limit:
        raise AmountInvalid(_("The amount may be at most %d points.") % limit, "points")
    context = Context(**{**context.__dict__, "reason": reason.strip(), "source": "adjust"})
    with transaction.atomic():
        if delta > 0:
            txn = _post_earn(actor, member, delta, key=key, context=context, kind=Kind.ADJUST)
        else:
            legs = [
                Leg(member_account(member, Asset.POINTS), delta),
                Leg(system_account(actor.merchant, Asset.POINTS, SystemAccount.ADJUSTMENT), -delta),
            ]
            txn = post(
                actor,
                kind=Kind.ADJUST,
                key=key,
                legs=legs,
                member=member,
                context=context,
                before_entries=lambda txn: consume_lots(
                    member, txn, -delta, usable_at=txn.occurred_at
                ),
            )
        if not getattr(txn, "replayed", False):
            audit(
                actor,
                AuditEntry.Action.CREATE,
                txn,
                {
                    "member": [None, member.card_no],
                    "points": [None, delta],
                    "reason": [None, context.reason],
                },
                label=f"points adjustment {member.card_no}",
            )
    return txn


# --- expiry and pending points ---------------------------------------------------------------


def expire_due_lots(as_of: dt.datetime, merchant: Merchant | None = None) -> int:
    """Post one `expire` transaction per lot due by `as_of`; returns how many lots expired.

    Idempotent: a lot with nothing left is skipped, and the key counts the lot's earlier
    expiries, so running twice expires nothing twice.
    """
    due = PointsLot.objects.filter(expires_at__lte=as_of, remaining__gt=0)
    if merchant is not None:
        due = due.filter(merchant=merchant)
    expired = 0
    for lot in due.select_related("member", "merchant").order_by("member_id", "pk").iterator():
        if _expire_lot(lot):
            expired += 1
    return expired


def _expire_lot(lot: PointsLot) -> bool:
    actor = Actor.system(lot.merchant)
    account = member_account(lot.member, Asset.POINTS)
    with transaction.atomic():
        lock_member_accounts([account])
        lot.refresh_from_db(fields=["remaining"])
        if lot.remaining <= 0:
            return False
        rounds = LotMovement.objects.filter(lot=lot, transaction__kind=Kind.EXPIRE).count()
        legs = [
            Leg(account, -lot.remaining),
            Leg(
                system_account(lot.merchant_id, Asset.POINTS, SystemAccount.EXPIRED), lot.remaining
            ),
        ]
        points = lot.remaining
        post(
            actor,
            kind=Kind.EXPIRE,
            key=f"expire:{lot.pk}:{rounds}",
            legs=legs,
            member=lot.member,
            context=Context(
                reason="expired",
                source="expiry",
                source_ref=str(lot.pk),
                occurred_at=lot.expires_at,
            ),
            before_entries=lambda txn: consume_lots(lot.member, txn, points, [lot]),
        )
    return True


def release_due_holds(as_of: dt.datetime, merchant: Merchant | None = None) -> int:
    due = PointsHold.objects.filter(status=PointsHold.Status.PENDING, release_at__lte=as_of)
    if merchant is not None:
        due = due.filter(merchant=merchant)
    released = 0
    for hold in due.select_related("member", "merchant", "store").iterator():
        with transaction.atomic():
            hold = PointsHold.objects.select_for_update().get(pk=hold.pk)
            if hold.status != PointsHold.Status.PENDING:
                continue
            txn = _post_earn(
                Actor.system(hold.merchant),
                hold.member,
                hold.points,
                key=f"hold:{hold.pk}",
                context=Context(
                    store=hold.store,
                    reason=hold.reason,
                    source=hold.source,
                    source_ref=hold.source_ref,
                    occurred_at=hold.earned_at,
                ),
            )
            PointsHold.objects.filter(pk=hold.pk).update(
                status=PointsHold.Status.POSTED, posted_as=txn, closed_at=timezone.now()
            )
            released += 1
    return released


def void_hold(actor: Actor, hold: PointsHold) -> PointsHold:
    with transaction.atomic():
        hold = PointsHold.objects.select_for_update().get(pk=hold.pk, merchant=actor.merchant)
        if hold.status == PointsHold.Status.PENDING:
            hold.status, hold.closed_at = PointsHold.Status.VOIDED, timezone.now()
            hold.save(update_fields=["status", "closed_at"])
    return hold


# --- reversal --------------------------------------------------------------------------------


def already_reversed(original: Transaction) -> dict[str, int]:
    """Per asset, how much of the original's member legs earlier reversals took back or owe."""
    taken = (
        Entry.objects.filter(transaction__reverses=original, account__owner_type="member")
        .values("asset")
        .annotate(total=Sum("amount"))
    )
    owed = (
        Shortfall.objects.filter(transaction__reverses=original)
        .values("asset")
        .annotate(total=Sum("amount"))
    )
    done: dict[str, int] = defaultdict(int)
    for row in taken:
        done[row["asset"]] += abs(row["total"])
    for row in owed:
        done[row["asset"]] += row["total"]
    return done


def reverse(
    actor: Actor,
    original: Transaction,
    *,
    key: str,
    amounts: dict[str, int] | None = None,
    reason: str = "",
    context: Context = Context(),
) -> Transaction | None:
    """Take back (all or `amounts` per asset of) a transaction with a new opposite one.

    A member balance never goes below zero: what the member already used is recorded as a
    Shortfall on the member instead (F-23). Returns None when nothing is left to reverse.
    """
    if original.merchant_id != actor.merchant.pk:
        from patron.core.errors import NotFound

        raise NotFound("Transaction not found")
    if original.kind == Kind.REVERSAL:
        raise DomainError(_("A reversal cannot itself be reversed."), "not_reversible", 409)
    existing = Transaction.objects.filter(merchant=actor.merchant, idempotency_key=key).first()
    if existing is not None:
        return _existing(actor.merchant, key, Kind.REVERSAL, original.member)
    entries = list(original.entries.select_related("account"))
    member_entries = {e.asset: e for e in entries if e.account.owner_type == OwnerType.MEMBER}
    done = already_reversed(original)
    wanted: dict[str, int] = {}
    for asset, entry in member_entries.items():
        left = abs(entry.amount) - done.get(asset, 0)
        ask = left if amounts is None else min(int(amounts.get(asset, 0)), left)
        if ask < 0:
            raise AmountInvalid(_("Reversal amounts cannot be negative."))
        if ask:
            wanted[asset] = ask
    if not wanted:
        return None
    member = original.member
    accounts = {asset: member_entries[asset].account for asset in wanted}
    with transaction.atomic():
        locked = lock_member_accounts(accounts.values())
        legs: list[Leg] = []
        shortfalls: dict[str, int] = {}
        for asset, ask in wanted.items():
            entry = member_entries[asset]
            sign = -1 if entry.amount > 0 else 1  # opposite of the original member leg
            amount = ask
            if sign < 0:  # taking value back from the member: never below zero
                amount = min(ask, locked[entry.account.pk].balance)
                if ask > amount:
                    shortfalls[asset] = ask - amount
            if amount == 0:
                continue
            legs.append(Leg(entry.account, sign * amount))
            counter = [e for e in entries if e.asset == asset and e.pk != entry.pk]
            for part, other in zip(
                allocate(amount, [abs(e.amount) for e in counter]), counter, strict=True
            ):
                if part:
                    legs.append(Leg(other.account, -sign * part))
        txn_context = Context(
            **{
                **context.__dict__,
                "reason": reason or context.reason,
                "source": context.source or "reversal",
                "source_ref": context.source_ref or str(original.pk),
            }
        )
        if not legs:  # everything is owed: record the shortfall on a zero-entry reversal
            return _shortfall_only(actor, original, key, shortfalls, txn_context)
        points_change = next(
            (
                leg.amount
                for leg in legs
                if leg.account.asset == Asset.POINTS and leg.account.owner_type == OwnerType.MEMBER
            ),
            0,
        )
        txn = post(
            actor,
            kind=Kind.REVERSAL,
            key=key,
            legs=legs,
            member=member,
            context=txn_context,
            reverses=original,
            before_entries=lambda txn: _reverse_lots(original, txn, points_change),
        )
        if getattr(txn, "replayed", False):
            return txn
        Shortfall.objects.bulk_create(
            [
                Shortfall(
                    merchant=actor.merchant,
                    member=member,
                    asset=asset,
                    amount=amount,
                    transaction=txn,
                )
                for asset, amount in shortfalls.items()
            ]
        )
    return txn


def _shortfall_only(
    actor: Actor, original: Transaction, key: str, shortfalls: dict[str, int], context: Context
) -> Transaction:
    txn = new_transaction(actor, Kind.REVERSAL, key, original.member, context, original)
    txn.save()
    Shortfall.objects.bulk_create(
        [
            Shortfall(
                merchant=actor.merchant,
                member=original.member,
                asset=asset,
                amount=amount,
                transaction=txn,
            )
            for asset, amount in shortfalls.items()
        ]
    )
    return txn


def _reverse_lots(original: Transaction, txn: Transaction, points_change: int) -> None:
    """Keep lots in step with a reversal: take back from the lots the original created, or
    give back to the lots it consumed (with their own expiry dates)."""
    if points_change == 0:
        return
    member = original.member
    if points_change < 0:
        created = list(PointsLot.objects.filter(earned_by=original))
        consume_lots(member, txn, -points_change, first=created)
        return
    consumed = (
        LotMovement.objects.filter(transaction=original, amount__lt=0)
        .select_related("lot")
        .order_by(F("lot__expires_at").desc(nulls_first=True))
    )
    restored_before = defaultdict(int)
    for movement in LotMovement.objects.filter(transaction__reverses=original, amount__gt=0):
        restored_before[movement.lot_id] += movement.amount
    left = points_change
    for movement in consumed:
        room = -movement.amount - restored_before[movement.lot_id]
        give = min(room, left)
        if give <= 0:
            continue
        PointsLot.objects.filter(pk=movement.lot_id).update(remaining=F("remaining") + give)
        LotMovement.objects.create(lot=movement.lot, transaction=txn, amount=give)
        restored_before[movement.lot_id] += give
        left -= give
        if left == 0:
            return
    if left:
        _new_lot(member, txn, left, txn.occurred_at)


def shrink_hold(actor: Actor, hold: PointsHold, points: int) -> int:
    """Take `points` off a pending hold (a partial refund inside the return window).

    Returns how many points came off; taking them all voids the hold.
    """
    with transaction.atomic():
        hold = PointsHold.objects.select_for_update().get(pk=hold.pk, merchant=actor.merchant)
        if hold.status != PointsHold.Status.PENDING or points <= 0:
            return 0
        if points >= hold.points:
            hold.status, hold.closed_at = PointsHold.Status.VOIDED, timezone.now()
            hold.save(update_fields=["status", "closed_at"])
            return hold.points
        PointsHold.objects.filter(pk=hold.pk).update(points=F("points") - points)
    return points


def quick_balances(member: Member) -> dict[str, int]:
    """The member's cached account balances per asset, in one query (checkout's fast read)."""
    balances = {asset: 0 for asset in Asset.values}
    rows = Account.objects.filter(
        merchant_id=member.merchant_id, owner_type=OwnerType.MEMBER, member=member
    ).values_list("asset", "balance")
    balances.update(dict(rows))
    return balances
