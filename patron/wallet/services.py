"""Writes of the wallet: a top-up is the ledger's posting, then what follows from it for the
member (a tier reached by a single top-up or a first deposit, F-10), in one transaction."""

from __future__ import annotations

from django.db import transaction

from patron.events import types as events
from patron.events.services import emit
from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members import hooks
from patron.members.models import Member
from patron.tenancy.actor import Actor


def top_up(
    actor: Actor,
    member: Member,
    amount: int,
    *,
    key: str,
    payment_method: str = "cash",
    context: ledger.Context | None = None,
) -> Transaction:
    with transaction.atomic():
        txn = ledger.top_up(
            actor,
            member,
            amount,
            key=key,
            payment_method=payment_method,
            context=context or ledger.Context(),
        )
        if not getattr(txn, "replayed", False):
            emit(
                member.merchant_id,
                events.TOPUP_COMPLETED,
                _topup_data(member, txn, amount, payment_method),
                member_id=member.pk,
            )
            hooks.member_activity(actor, member, "topup", {"amount": amount, "transaction": txn})
    return txn


def _topup_data(member: Member, txn: Transaction, amount: int, method: str) -> dict:
    """The `topup.completed` payload: what was paid in (the bonus is the ledger's to tell)."""
    return {
        "transaction_id": txn.pk,
        "member_id": member.pk,
        "card_no": member.card_no,
        "store": txn.store.code if txn.store_id else None,
        "amount_fen": amount,
        "payment_method": method,
        "at": txn.occurred_at,
    }
