"""`points.expiring`: tell the outbox of points about to expire (API.md §9, docs/events.md).

It lives in the wallet (a member's points, read from the ledger's lots): the ledger itself imports
nothing above the program, not even the outbox.

A daily job looks at the lots that still hold points and expire within the widest window
(`WINDOWS`, in days). A member's lots that expire at the same moment are one announcement
(their points summed); each (member, expiry moment) is announced once per window it enters:
30 days ahead, then 7 days ahead. A lot first seen already inside the 7-day window gets
only that one. What was announced is read back from the outbox itself (the events of the
last days), so the job can run again, or late, without announcing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from patron.events import types as events
from patron.events.models import Event
from patron.events.services import emit_many
from patron.ledger.models import PointsLot

# Days ahead at which members hear of their expiring points; journeys trigger on one of them
# (`{"event": "points.expiring", "days": 7}`), matched against the event's `days`.
WINDOWS = (7, 30)

Key = tuple[int, dt.datetime, int]  # member, expiry moment, window


def announce_expiring(now: dt.datetime | None = None, merchant_id: int | None = None) -> int:
    """Emit the `points.expiring` events due at `now`; returns how many were written."""
    now = now or timezone.now()
    due = _due(now, merchant_id)
    written = 0
    for merchant, rows in due.items():
        with transaction.atomic():
            told = _announced(merchant, now)
            fresh = [row for row in rows if (row[0], _ms(row[1]), row[2]) not in told]
            written += emit_many(
                merchant,
                events.POINTS_EXPIRING,
                (
                    (
                        member_id,
                        {
                            "member_id": member_id,
                            "points": points,
                            "expires_at": expires_at,
                            "days": window,
                        },
                    )
                    for member_id, expires_at, window, points in fresh
                ),
                at=now,
            )
    return written


def window_for(expires_at: dt.datetime, now: dt.datetime) -> int | None:
    """The narrowest window the expiry falls in (None: further away than the widest)."""
    left = expires_at - now
    for days in sorted(WINDOWS):
        if left <= dt.timedelta(days=days):
            return days
    return None


def _due(now: dt.datetime, merchant_id: int | None) -> dict[int, list[tuple]]:
    """(member, expires_at, window, points) per merchant, by member then expiry."""
    lots = PointsLot.objects.filter(
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(days=max(WINDOWS)),
    )
    if merchant_id is not None:
        lots = lots.filter(merchant_id=merchant_id)
    grouped = (
        lots.values("merchant_id", "member_id", "expires_at")
        .annotate(points=Sum("remaining"))
        .order_by("merchant_id", "member_id", "expires_at")
    )
    due: dict[int, list[tuple]] = defaultdict(list)
    for row in grouped:
        window = window_for(row["expires_at"], now)
        if window is not None and row["points"] > 0:
            due[row["merchant_id"]].append(
                (row["member_id"], row["expires_at"], window, row["points"])
            )
    return due


def _announced(merchant_id: int, now: dt.datetime) -> set[Key]:
    """What was announced in the time the widest window spans (and a day more)."""
    since = now - dt.timedelta(days=max(WINDOWS) + 1)
    told: set[Key] = set()
    rows = Event.objects.filter(
        merchant_id=merchant_id, type=events.POINTS_EXPIRING, created_at__gte=since
    ).values_list("member_id", "data")
    for member_id, data in rows:
        try:
            expires_at = dt.datetime.fromisoformat(data["expires_at"])
            told.add((member_id, _ms(expires_at), int(data["days"])))
        except (KeyError, TypeError, ValueError):
            continue  # not one of ours (hand-made): nothing to skip for it
    return told


def _ms(moment: dt.datetime) -> dt.datetime:
    """To the millisecond, as the outbox's JSON keeps times (DjangoJSONEncoder)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
