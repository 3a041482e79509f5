"""Members' part of other apps' hand-written statements (see `patron.core.rawsql`)."""

from __future__ import annotations

from collections.abc import Callable

from patron.core import rawsql
from patron.members.models import Member

LOOKUPS = ("pk", "mobile", "card_no")  # each unique per merchant


def member_with(lookup: str, figures: Callable[[rawsql.Table], rawsql.Fragment]) -> rawsql.Fragment:
    """One member of a merchant, found by `lookup`, with every column (`rawsql.build` order)
    and then what `figures` adds (it gets the member's table, to name the member's columns).

    Parameters: the figures' own, the merchant's id, the value looked up. No ordering is
    asked for: there is at most one row (PostgreSQL would pick a worse index for one).
    """
    if lookup not in LOOKUPS:
        raise ValueError(f"members are not looked up by {lookup!r}")
    member = rawsql.Table(Member, "m")
    added = figures(member)
    statement = rawsql.Statement(
        "SELECT {m:columns}, {figures} FROM {m} WHERE {m.merchant_id} = %s AND {value} = %s",
        m=member,
        figures=added.sql,
        value=getattr(member, lookup),
    )
    return rawsql.Fragment(statement, added.params)
