"""Helpers for the scores tests (stats windows, lifecycle, RFM): members and sales written
straight to their tables at chosen times, and a refresh of the three steps."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from patron.insight import lifecycle, rfm, stats
from patron.insight.models import MemberInsight
from patron.members.models import Member
from patron.members.services import register_member
from patron.sales.models import Refund, Sale

SHANGHAI = ZoneInfo("Asia/Shanghai")
_keys = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def member(system, mobile: str, joined: dt.datetime | None = None, store: str = "S1") -> Member:
    found = register_member(system, {"mobile": mobile, "store": store})
    if joined is not None:
        Member.objects.filter(pk=found.pk).update(joined_at=joined)
        found.refresh_from_db()
    return found


def sale(
    who: Member, total: int, at: dt.datetime, status: str = Sale.Status.COMPLETED, **more
) -> Sale:
    """A sale of `total` fen at `at`, as history (no ledger, no hooks)."""
    return Sale.objects.create(
        merchant_id=who.merchant_id,
        member=who,
        store=who.store,
        idempotency_key=f"scores-{next(_keys)}",
        occurred_at=at,
        subtotal=total,
        discount=0,
        total=total,
        status=status,
        **more,
    )


def refund(of: Sale, amount: int, at: dt.datetime) -> Refund:
    found = Refund.objects.create(
        merchant_id=of.merchant_id, sale=of, idempotency_key=f"refund-{next(_keys)}", amount=amount
    )
    Refund.objects.filter(pk=found.pk).update(created_at=at)
    return found


def refresh(merchant, as_of: dt.datetime) -> None:
    stats.refresh_stats(merchant, as_of)
    lifecycle.refresh_lifecycle(merchant, as_of)
    rfm.refresh_rfm(merchant, as_of)


def insight(who: Member) -> MemberInsight:
    return MemberInsight.objects.get(member=who)
