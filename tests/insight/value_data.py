"""The CDNOW sample as purchases, and a quick way to give a merchant members and sales
(bulk rows, no pricing: the value models read only member, time, total and refunds)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from patron.members.models import Member
from patron.sales.models import Sale

CDNOW = Path(__file__).resolve().parent.parent / "data" / "cdnow" / "CDNOW_sample.txt"


def cdnow_rows() -> list[tuple[int, dt.date, int]]:
    """(customer, day, amount in cents) per line of the sample file."""
    rows = []
    for line in CDNOW.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        day = parts[2]
        amount = round(float(parts[4]) * 100)
        rows.append((int(parts[1]), dt.date(int(day[:4]), int(day[4:6]), int(day[6:])), amount))
    return rows


def make_members(merchant, store, count: int, joined: dt.datetime) -> list[Member]:
    """`count` new members of the merchant (numbered on from those it has), oldest card first."""
    first = Member.objects.filter(merchant=merchant).count()
    members = [
        Member(
            merchant=merchant,
            card_no=f"V{i:07d}",
            mobile=f"139{i:08d}",
            referral_code=f"R{i:07d}",
            store=store,
            joined_at=joined,
        )
        for i in range(first, first + count)
    ]
    Member.objects.bulk_create(members, batch_size=2000)
    cards = [m.card_no for m in members]
    return list(Member.objects.filter(merchant=merchant, card_no__in=cards).order_by("card_no"))


def make_sales(merchant, store, purchases: list[tuple[Member, dt.datetime, int]]) -> None:
    """One completed sale per (member, moment, total in fen)."""
    batch = uuid.uuid4().hex[:8]
    Sale.objects.bulk_create(
        [
            Sale(
                merchant=merchant,
                member=member,
                store=store,
                channel="import",
                idempotency_key=f"t-{batch}-{i}",
                occurred_at=moment,
                subtotal=total,
                discount=0,
                total=total,
            )
            for i, (member, moment, total) in enumerate(purchases)
        ],
        batch_size=2000,
    )


def load_cdnow(merchant, store) -> dict[int, Member]:
    """The sample as the merchant's sales, at noon in the merchant's zone; customer -> member."""
    rows = cdnow_rows()
    customers = sorted({customer for customer, _day, _amount in rows})
    zone = ZoneInfo(merchant.timezone)
    members = make_members(merchant, store, len(customers), dt.datetime(1997, 1, 1, tzinfo=zone))
    by_customer = dict(zip(customers, members, strict=True))
    make_sales(
        merchant,
        store,
        [
            (by_customer[c], dt.datetime.combine(day, dt.time(12), tzinfo=zone), amount)
            for c, day, amount in rows
        ],
    )
    return by_customer
