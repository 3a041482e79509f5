"""Writes for settlement between stores: closing a month freezes its lines."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import DomainError, PermissionDenied
from patron.network import settlement_selectors as selectors
from patron.network.models import SettlementLine, SettlementMonth
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Store
from patron.tenancy.services import audit


def close_month(actor: Actor, month: str, *, key: str = "") -> selectors.Statement:
    """Freeze `month` (HQ only) and answer its statement; closing a closed month answers the
    frozen statement and writes nothing. A month not yet ended is refused (422
    `month_not_ended`), a malformed one is 422 `validation_error`."""
    if actor.store_bound is not None or not actor.is_hq_admin:
        raise PermissionDenied(_("Only head office closes a settlement month."))
    month = selectors.parse_month(month)
    merchant = actor.merchant
    if SettlementMonth.objects.filter(merchant=merchant, month=month).exists():
        return selectors.statement(actor, month)
    if timezone.now() < selectors.month_end(merchant, month):
        raise DomainError(
            _("%(month)s has not ended yet: a month is closed once it is over.") % {"month": month},
            "month_not_ended",
            422,
        )
    try:
        with transaction.atomic():
            # One close at a time per merchant: the lines computed below must not change
            # under us (another close freezing them) before they are written.
            list(Store.objects.select_for_update().filter(merchant=merchant).order_by("pk")[:1])
            if SettlementMonth.objects.filter(merchant=merchant, month=month).exists():
                return selectors.statement(actor, month)
            lines = [line for line in selectors.all_lines(merchant) if line.month == month]
            closed = SettlementMonth.objects.create(
                merchant=merchant,
                month=month,
                closed_at=timezone.now(),
                closed_by=actor.user,
                idempotency_key=key[:255],
            )
            stores = dict(Store.objects.filter(merchant=merchant).values_list("code", "pk"))
            SettlementLine.objects.bulk_create(
                [
                    SettlementLine(
                        merchant=merchant,
                        closed_month=closed,
                        key=line.key,
                        kind=line.kind,
                        payer_id=stores.get(line.payer),
                        payee_id=stores.get(line.payee),
                        amount=line.amount,
                        transaction_id=line.transaction_id,
                        deposit_id=line.deposit_id,
                        sale_id=line.sale_id,
                        refund_id=line.refund_id,
                        member_id=line.member_id,
                        label=line.label,
                        occurred_at=line.occurred_at,
                        occurred_month=line.own_month,
                    )
                    for line in lines
                ]
            )
            audit(
                actor,
                AuditEntry.Action.CREATE,
                closed,
                {"month": [None, month], "flows": [None, len(lines)]},
                label=month,
            )
    except IntegrityError:  # a concurrent close of the same month won
        if not SettlementMonth.objects.filter(merchant=merchant, month=month).exists():
            raise
    return selectors.statement(actor, month)
