"""Money taken at the counter for a card or a membership (and given back on a refund): one
`CardPayment` row with its tender and receipt number, once per idempotency key.

Shift close counts these rows by method like a sale's tenders (patron.shifts.selectors).
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards.models import Card, CardPayment, Membership
from patron.core.errors import FieldError, ValidationFailed
from patron.ledger import payments
from patron.members.models import Member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store


def checked_method(raw: str | None, field: str = "payment_method") -> str:
    """The tender's code (`cash` when not given); an unknown one is a field error."""
    method = payments.canonical(raw or payments.CASH)
    if not payments.is_known(method):
        raise ValidationFailed([FieldError(field, _("Unknown payment method %s.") % raw)])
    return method


def receipt_number(merchant_id: int) -> str:
    """C + local date + 6 random digits: unique per merchant (the table's constraint)."""
    return f"C{timezone.localdate():%Y%m%d}{secrets.randbelow(10**6):06d}"


def take_payment(
    actor: Actor,
    member: Member,
    kind: str,
    amount: int,
    *,
    method: str,
    key: str,
    store: Store | None = None,
    card: Card | None = None,
    membership: Membership | None = None,
) -> CardPayment:
    """Record money taken (amount > 0) or given back (amount < 0); the same key answers with
    the first row. Runs in the caller's transaction."""
    existing = CardPayment.objects.filter(merchant=actor.merchant, idempotency_key=key).first()
    if existing is not None:
        return existing
    for _attempt in range(5):  # a random receipt number may meet another: draw again
        try:
            with transaction.atomic():
                return CardPayment.objects.create(
                    merchant=actor.merchant,
                    member=member,
                    card=card,
                    membership=membership,
                    kind=kind,
                    amount=amount,
                    method=method,
                    receipt_no=receipt_number(actor.merchant.pk),
                    idempotency_key=key,
                    store=store or actor.store_bound,
                    user=actor.user,
                )
        except IntegrityError:
            existing = CardPayment.objects.filter(
                merchant=actor.merchant, idempotency_key=key
            ).first()
            if existing is not None:
                return existing
    raise RuntimeError("no free receipt number after 5 draws")
