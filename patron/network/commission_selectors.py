"""The monthly commission statement (API.md §12; docs/network.md "Staff commissions").

Read from what happened, never stored: for a month of the merchant's local calendar, per staff
and store (the store of the card, top-up or member),
- cards sold: cards issued with a card product in the month, replacements not counted, a card
  refunded in the same month not counted (refunded later: still counted in its month);
- top-ups: each ledger top-up's principal in the month, less what reversals in the same month
  took back (a top-up reversed whole is not counted); each top-up earns per whole step;
- recruited: members whose recruited_by is the staff, joined in the month (imports not counted).
The rules are the program's `commissions` section as it is now; the arithmetic is
patron.engine.commissions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet, Sum

from patron.cards.models import Card
from patron.core import months
from patron.engine import commissions as engine
from patron.ledger.models import Asset, Entry, OwnerType, Transaction
from patron.members.models import Channel, Member
from patron.network.commission_program import rules_of
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store

Key = tuple[int, int | None]  # (user id, store id)


@dataclass(frozen=True)
class Row(engine.Commission):
    """One staff at one store: the engine's figures and who and where."""

    user_id: int
    staff: str  # the user name
    name: str
    store_id: int | None
    store: str | None  # the store's code
    store_name: str
    rank: int = 0

    def as_dict(self) -> dict[str, object]:
        names = ("staff", "name", "store", "cards", "topup_amount", "recruited")
        money = ("card_amount", "topup_commission", "ladder_bonus", "amount")
        return {key: getattr(self, key) for key in (*names, *money)}


@dataclass
class Facts:
    cards: int = 0
    topups: list[int] = field(default_factory=list)
    recruited: int = 0


def parse_month(text: str | None, merchant_zone: str) -> dt.date:
    """'2027-03' -> 2027-03-01; none: this month in the merchant's zone; else 422."""
    return months.first_day(months.parse_month(text) if text else months.this_month(merchant_zone))


def month_bounds(first: dt.date, merchant_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The month's start and the next month's, in the merchant's zone."""
    return months.month_bounds(first.strftime("%Y-%m"), merchant_zone)


def cards_sold(merchant_id: int, start: dt.datetime, end: dt.datetime) -> QuerySet[Card]:
    """Cards sold by staff in the month that count (not replacements, not refunded in it)."""
    return Card.objects.filter(
        merchant_id=merchant_id,
        product__isnull=False,
        issued_by__isnull=False,
        issued_at__gte=start,
        issued_at__lt=end,
        replaces__isnull=True,  # a replacement is not a sale
    ).exclude(closed_at__gte=start, closed_at__lt=end)  # refunded within the month


def _cards(merchant_id: int, start: dt.datetime, end: dt.datetime, facts: dict[Key, Facts]):
    sold = (
        cards_sold(merchant_id, start, end)
        .values("issued_by_id", "store_id")
        .annotate(n=Count("id"))
    )
    for row in sold:
        facts[(row["issued_by_id"], row["store_id"])].cards += row["n"]


def topups_left(
    merchant_id: int, start: dt.datetime, end: dt.datetime, **only: object
) -> list[tuple[Transaction, int]]:
    """Top-ups taken by staff in the month with the principal left after reversals within it
    (those reversed whole left out); `only`: more filters on the transaction."""
    principal = Entry.objects.filter(
        transaction__merchant_id=merchant_id,
        asset=Asset.PRINCIPAL,
        account__owner_type=OwnerType.MEMBER,
    )
    paid = principal.filter(
        transaction__kind=Transaction.Kind.TOPUP,
        transaction__user__isnull=False,
        transaction__occurred_at__gte=start,
        transaction__occurred_at__lt=end,
        **{f"transaction__{name}": value for name, value in only.items()},
    ).select_related("transaction", "transaction__member")
    topups = list(paid)
    taken_back = dict(
        principal.filter(
            transaction__kind=Transaction.Kind.REVERSAL,
            transaction__reverses_id__in=[entry.transaction_id for entry in topups],
            transaction__occurred_at__lt=end,
        )
        .values_list("transaction__reverses_id")
        .annotate(total=Sum("amount"))
    )
    found = []
    for entry in topups:
        left = entry.amount + taken_back.get(entry.transaction_id, 0)  # reversals are negative
        if left > 0:
            found.append((entry.transaction, left))
    return found


def _topups(merchant_id: int, start: dt.datetime, end: dt.datetime, facts: dict[Key, Facts]):
    for txn, left in topups_left(merchant_id, start, end):
        facts[(txn.user_id, txn.store_id)].topups.append(left)


def recruits(merchant_id: int, start: dt.datetime, end: dt.datetime) -> QuerySet[Member]:
    """Members recruited by staff who joined in the month (imports do not count)."""
    return Member.objects.filter(
        merchant_id=merchant_id,
        recruited_by__isnull=False,
        joined_at__gte=start,
        joined_at__lt=end,
    ).exclude(source_channel=Channel.IMPORT)


def _recruits(merchant_id: int, start: dt.datetime, end: dt.datetime, facts: dict[Key, Facts]):
    joined = (
        recruits(merchant_id, start, end)
        .values("recruited_by_id", "store_id")
        .annotate(n=Count("id"))
    )
    for row in joined:
        facts[(row["recruited_by_id"], row["store_id"])].recruited += row["n"]


@dataclass(frozen=True)
class Behind:
    """What is behind one staff's row at one store: the cards, top-ups and recruits."""

    row: Row
    cards: list[Card]
    topups: list[tuple[Transaction, int]]
    recruits: list[Member]


def behind(actor: Actor, first: dt.date, staff: str, store: str) -> Behind | None:
    """The row of `staff` at `store` ("" for none) the actor may see, and what makes it."""
    rows = [r for r in statement(actor, first, staff=staff) if (r.store or "") == store]
    if not rows:
        return None
    row = rows[0]
    merchant_id = actor.merchant.pk
    start, end = month_bounds(first, actor.merchant.timezone)
    where = {"store_id": row.store_id}
    sold = cards_sold(merchant_id, start, end).filter(issued_by_id=row.user_id, **where)
    joined = recruits(merchant_id, start, end).filter(recruited_by_id=row.user_id, **where)
    return Behind(
        row=row,
        cards=list(sold.select_related("member", "product").order_by("issued_at")),
        topups=sorted(
            topups_left(merchant_id, start, end, user_id=row.user_id, **where),
            key=lambda pair: pair[0].occurred_at,
        ),
        recruits=list(joined.order_by("joined_at")),
    )


def statement(
    actor: Actor, first: dt.date, *, staff: str = "", store: str = "", everyone: bool = False
) -> list[Row]:
    """The month's rows the actor may see (HQ and marketers: all; a store manager: their
    store's; a cashier: their own; `everyone`: all, for a store's leaderboard on the till),
    by store code then amount (highest first)."""
    merchant = actor.merchant
    start, end = month_bounds(first, merchant.timezone)
    facts: dict[Key, Facts] = defaultdict(Facts)
    for part in (_cards, _topups, _recruits):
        part(merchant.pk, start, end, facts)
    rules = engine.rules_from(rules_of(merchant.pk))
    users = get_user_model().objects.in_bulk({user_id for user_id, _store in facts})
    stores = Store.objects.filter(merchant=merchant).in_bulk()
    rows = []
    for (user_id, store_id), found in facts.items():
        user = users.get(user_id)
        place = stores.get(store_id) if store_id else None
        if user is None or not (everyone or _visible(actor, user_id, store_id)):
            continue
        if staff and user.get_username() != staff:
            continue
        if store and (place is None or place.code != store):
            continue
        result = engine.commission(
            rules, engine.Facts(found.cards, tuple(found.topups), found.recruited)
        )
        rows.append(
            Row(
                **asdict(result),
                user_id=user_id,
                staff=user.get_username(),
                name=user.get_full_name() or user.get_username(),
                store_id=store_id,
                store=place.code if place else None,
                store_name=place.name if place else "",
            )
        )
    rows.sort(key=lambda row: (row.store or "", -row.amount, row.staff))
    return rows


def _visible(actor: Actor, user_id: int, store_id: int | None) -> bool:
    if actor.staff is None or actor.role in (Role.HQ_ADMIN, Role.MARKETER):
        return True
    if actor.role == Role.STORE_MANAGER:
        return store_id == actor.staff.store_id
    return user_id == actor.staff.user_id


def leaderboard(rows: list[Row]) -> list[Row]:
    """Ranked by amount (ties share a rank), then by user name."""
    ranked: list[Row] = []
    for position, row in enumerate(
        sorted(rows, key=lambda row: (-row.amount, row.staff, row.store or "")), start=1
    ):
        tied = ranked and ranked[-1].amount == row.amount
        ranked.append(replace(row, rank=ranked[-1].rank if tied else position))
    return ranked


def totals(rows: list[Row]) -> dict[str, int]:
    keys = ("cards", "topup_amount", "recruited", "card_amount", "topup_commission")
    keys += ("ladder_bonus", "amount")
    return {key: sum(getattr(row, key) for row in rows) for key in keys}
