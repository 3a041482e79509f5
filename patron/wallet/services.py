"""Writes of the wallet: a top-up is the ledger's posting, then what follows from it for the
member (a tier reached by a single top-up or a first deposit, F-10), in one transaction."""

from __future__ import annotations

from django.db import transaction

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
            hooks.member_activity(actor, member, "topup", {"amount": amount, "transaction": txn})
    return txn
