"""Points leaving for, and arriving from, an allied merchant (F-42).

The ledger stays per merchant: a member's points moved to a partner leave the member for this
merchant's `alliance` system account (kind `alliance_out`, lots consumed FIFO like a spend), and
arrive at the partner's member from the partner's `alliance` account (kind `alliance_in`, a new
lot under the partner's expiry policy). Each merchant's books balance on their own; what the
two clearing accounts hold is what the merchants settle with each other. The caller posts both
in one database transaction. The ledger knows members by id only: who the twin is, at which
rate, is decided above (patron/network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.ledger import guards
from patron.ledger.models import Account, Asset, SystemAccount, Transaction
from patron.ledger.services import (
    Context,
    Leg,
    _new_lot,
    consume_lots,
    ensure_active,
    ensure_positive,
    ensure_same_merchant,
    lock_member_accounts,
    member_account,
    post,
    system_account,
)
from patron.tenancy.actor import Actor

if TYPE_CHECKING:
    from patron.members.models import Member

Kind = Transaction.Kind


def lock_points(*members: Member) -> dict[int, Account]:
    """Open and lock the members' points accounts (of any merchants) in primary-key order, so
    that exchanges crossing in opposite directions never deadlock."""
    return lock_member_accounts([member_account(member, Asset.POINTS) for member in members])


def points_out(
    actor: Actor, member: Member, points: int, *, key: str, context: Context
) -> Transaction:
    """Take `points` from the member (lots FIFO by expiry) into the alliance account; raises
    InsufficientFunds (422 `insufficient_points`) when the member holds fewer usable points."""
    ensure_same_merchant(actor, member)
    ensure_active(member)
    ensure_positive(points, "points")
    if not Transaction.objects.filter(merchant=actor.merchant, idempotency_key=key).exists():
        guards.check_may_spend(actor.merchant.pk, member.pk)  # a lost card cannot move points
    legs = [
        Leg(member_account(member, Asset.POINTS), -points),
        Leg(system_account(actor.merchant, Asset.POINTS, SystemAccount.ALLIANCE), points),
    ]
    return post(
        actor,
        kind=Kind.ALLIANCE_OUT,
        key=key,
        legs=legs,
        member=member,
        context=context,
        before_entries=lambda txn: consume_lots(member, txn, points, usable_at=txn.occurred_at),
    )


def points_in(
    actor: Actor, member: Member, points: int, *, key: str, context: Context
) -> Transaction:
    """Credit `points` from the alliance account as a new lot (the merchant's expiry policy;
    no return window: nothing was bought)."""
    ensure_same_merchant(actor, member)
    ensure_positive(points, "points")
    legs = [
        Leg(member_account(member, Asset.POINTS), points),
        Leg(system_account(actor.merchant, Asset.POINTS, SystemAccount.ALLIANCE), -points),
    ]
    return post(
        actor,
        kind=Kind.ALLIANCE_IN,
        key=key,
        legs=legs,
        member=member,
        context=context,
        before_entries=lambda txn: _new_lot(member, txn, points, txn.occurred_at),
    )
