"""Large console lists built quickly for the paging tests (issue 21): audit entries, ledger
movements and sales written with bulk_create (one INSERT per thousand rows) instead of one
service call each. The rows are what the services would write for the list to show; the
services themselves are tested elsewhere."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from django.test import Client
from django.utils import timezone

from patron.ledger.models import Asset, Entry, OwnerType, Transaction
from patron.ledger.services import member_account, system_account
from patron.members.models import Member
from patron.sales.models import Sale
from patron.tenancy.models import AuditEntry, Merchant, Store

BATCH = 1000
NEXT_LINK = re.compile(r'<a [^>]*rel="next" href="([^"#]+)')
PREVIOUS_LINK = re.compile(r'<a [^>]*rel="prev" href="([^"#]+)')


def add_audit_entries(
    merchant: Merchant,
    count: int,
    *,
    object_type: str = "member",
    action: str = AuditEntry.Action.UPDATE,
    store: Store | None = None,
) -> list[int]:
    """`count` entries written in the same moment (auto_now_add): the pages must order them
    by id, the ordering's last field. Their ids, oldest first."""
    rows = [
        AuditEntry(
            merchant=merchant,
            store=store,
            action=action,
            object_type=object_type,
            object_id=str(n),
            object_repr=f"#{n}",
        )
        for n in range(count)
    ]
    return [row.pk for row in AuditEntry.objects.bulk_create(rows, batch_size=BATCH)]


def add_movements(
    member: Member, count: int, *, start: dt.datetime | None = None, store: Store | None = None
) -> list[int]:
    """`count` adjustments of one point to the member, a minute apart, oldest first, each
    with its two entries (the member's and the system's). The member's entry ids, oldest first.
    The cached balance is left alone: the history lists entries, it does not sum them."""
    start = start or timezone.now() - dt.timedelta(days=30)
    merchant_id = member.merchant_id
    mine = member_account(member, Asset.POINTS)
    theirs = system_account(merchant_id, Asset.POINTS, "adjust")
    moments = [start + dt.timedelta(minutes=n) for n in range(count)]
    transactions = Transaction.objects.bulk_create(
        [
            Transaction(
                merchant_id=merchant_id,
                member=member,
                store=store,
                kind=Transaction.Kind.ADJUST,
                idempotency_key=f"bulk-{member.pk}-{at.timestamp()}-{n}",
                reason="bulk",
                occurred_at=at,
            )
            for n, at in enumerate(moments)
        ],
        batch_size=BATCH,
    )
    entries = [
        Entry(
            transaction=txn,
            account=account,
            asset=Asset.POINTS,
            amount=amount,
            member=member if account.owner_type == OwnerType.MEMBER else None,
            occurred_at=txn.occurred_at,
        )
        for txn in transactions
        for account, amount in ((mine, 1), (theirs, -1))
    ]
    created = Entry.objects.bulk_create(entries, batch_size=BATCH)
    return [entry.pk for entry in created if entry.member_id == member.pk]


def add_sales(
    merchant: Merchant,
    store: Store,
    count: int,
    *,
    member: Member | None = None,
    start: dt.datetime | None = None,
    step: dt.timedelta = dt.timedelta(minutes=1),
) -> list[int]:
    """`count` completed sales of ¥10.00, `step` apart from `start`. Their ids, oldest first."""
    start = start or timezone.now() - dt.timedelta(days=30)
    rows = [
        Sale(
            merchant=merchant,
            store=store,
            member=member,
            idempotency_key=f"bulk-{store.pk}-{start.timestamp()}-{n}",
            occurred_at=start + step * n,
            subtotal=1000,
            discount=0,
            total=1000,
            cash_due=1000,
        )
        for n in range(count)
    ]
    return [row.pk for row in Sale.objects.bulk_create(rows, batch_size=BATCH)]


def unescaped(link: str) -> str:
    return link.replace("&amp;", "&")


def walk_pages(client: Client, url: str, params: dict | None = None) -> Iterator[str]:
    """Every page of a console list, following its "next" links from the first page."""
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200
        html = response.content.decode()
        yield html
        found = NEXT_LINK.search(html)
        if not found:
            return
        response = client.get(url + unescaped(found.group(1)))


def link(html: str, pattern: re.Pattern) -> str | None:
    found = pattern.search(html)
    return unescaped(found.group(1)) if found else None
