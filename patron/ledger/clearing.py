"""Points leaving for, and arriving from, an allied merchant (F-42).

The ledger stays per merchant: a member's points moved to a partner leave the member for this
merchant's `alliance` system account (kind `alliance_out`, lots consumed FIFO like a spend), and
arrive at the partner's member from the partner's `alliance` account (kind `alliance_in`, a new
lot under the partner's expiry policy, no return window: nothing was bought). Each merchant's
books balance on their own; what the two clearing accounts hold is what the merchants settle
with each other. The caller posts both in one database transaction. The ledger knows members by
id only: who the twin is, at which rate, is decided above (patron/network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from patron.ledger import services
from patron.ledger.models import Account, Asset, Transaction
from patron.tenancy.actor import Actor

if TYPE_CHECKING:
    from patron.members.models import Member

Kind = Transaction.Kind


def lock_points(*members: Member) -> dict[int, Account]:
    """Open and lock the members' points accounts (of any merchants) in primary-key order, so
    that exchanges crossing in opposite directions never deadlock."""
    accounts = [services.member_account(member, Asset.POINTS) for member in members]
    return services.lock_member_accounts(accounts)


def points_out(
    actor: Actor, member: Member, points: int, *, key: str, context: services.Context
) -> Transaction:
    """Take `points` from the member into the alliance account; InsufficientFunds (422
    `insufficient_points`) when the member holds fewer usable points."""
    return services.spend_points(
        actor, member, points, key=key, context=context, kind=Kind.ALLIANCE_OUT
    )


def points_in(
    actor: Actor, member: Member, points: int, *, key: str, context: services.Context
) -> Transaction:
    """Credit `points` from the alliance account as a new lot of the member's merchant."""
    services.ensure_same_merchant(actor, member)
    services.ensure_positive(points, "points")
    return services._post_earn(
        actor, member, points, key=key, context=context, kind=Kind.ALLIANCE_IN
    )
