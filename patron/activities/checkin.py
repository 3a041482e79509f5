"""Daily check-in (F-16): one row per member and day of the merchant's calendar, streaks,
streak bonuses and make-up cards (补签卡). Points move only through the ledger, under keys
made of the member and the day, so a retry or a double tap never pays twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.activities.checkin_program import MAKEUP_WINDOW_DEFAULT, policy
from patron.activities.models import CheckIn, MakeupCardMove, MakeupCards
from patron.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Role
from patron.tenancy.permissions import merchant_zone

SOURCE = "checkin"
MAX_GRANT = 100  # make-up cards given at once by staff or a reward
GRANTING_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER}


@dataclass(frozen=True)
class Outcome:
    """What a check-in gave: the row, and the points and make-up cards paid with it."""

    checkin: CheckIn
    points: int
    bonus: int
    makeup_cards: int


def local_today(merchant: Merchant, at: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(at or timezone.now(), merchant_zone(merchant.timezone)).date()


def rules(merchant_id: int) -> dict[str, Any]:
    return policy(merchant_id).checkin


def not_offered() -> DomainError:
    return DomainError(_("Check-in is not offered by this merchant."), "checkin_not_offered", 409)


def _ensure_member(actor: Actor, member: Member) -> None:
    ledger.ensure_same_merchant(actor, member)
    ledger.ensure_active(member)


def _streak_before(member: Member, day: dt.date) -> int:
    previous = CheckIn.objects.filter(member=member, day=day - dt.timedelta(days=1)).first()
    return previous.streak if previous else 0


def _bonus_for(config: dict[str, Any], streak: int) -> dict[str, int]:
    """The streak bonus paid on the day a streak reaches exactly its `days`."""
    for row in config.get("streaks", []):
        if row["days"] == streak:
            return {"points": row.get("points", 0), "makeup_cards": row.get("makeup_cards", 0)}
    return {"points": 0, "makeup_cards": 0}


def _earn(actor: Actor, member: Member, points: int, key: str, reason: str) -> None:
    if points > 0:
        ledger.earn_points(
            actor,
            member,
            points,
            key=key,
            pending_days=0,
            context=ledger.Context(reason=reason, source=SOURCE, source_ref=str(member.pk)),
        )


def check_in(
    actor: Actor,
    member: Member,
    *,
    makeup_day: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Outcome:
    """Check `member` in today (merchant's zone), or fill `makeup_day` with a make-up card.

    409 `already_checked_in` when the day has its row already (exact under concurrency: the
    (member, day) row is unique); a make-up takes one card (409 `no_makeup_cards`)."""
    _ensure_member(actor, member)
    config = rules(member.merchant_id)
    if not config:
        raise not_offered()
    today = local_today(actor.merchant, at)
    day = today if makeup_day is None else _makeup_day_checked(config, today, makeup_day)
    with transaction.atomic():
        streak = _streak_before(member, day) + 1
        row = CheckIn(merchant=actor.merchant, member=member, day=day, streak=streak)
        row.makeup = makeup_day is not None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise Conflict(_("Already checked in that day."), "already_checked_in") from None
        if row.makeup:
            _take_makeup_card(actor, member, day)
            streak = _carry_streak_forward(member, day, streak)
        bonus = _bonus_for(config, row.streak) if not row.makeup else {"points": 0}
        row.points, row.bonus = config.get("points", 0), bonus["points"]
        row.save(update_fields=["points", "bonus"])
        _earn(actor, member, row.points, f"checkin:{member.pk}:{day}", _("Daily check-in"))
        _earn(
            actor,
            member,
            row.bonus,
            f"checkin-streak:{member.pk}:{day}",
            _("%(days)d-day check-in streak bonus") % {"days": row.streak},
        )
        cards = bonus.get("makeup_cards", 0)
        if cards:
            reason = _("%(days)d-day check-in streak bonus") % {"days": row.streak}
            grant_makeup_cards(actor, member, cards, reason, key=f"checkin-cards:{member.pk}:{day}")
    row.streak = streak
    return Outcome(row, row.points + row.bonus, row.bonus, cards)


def _makeup_day_checked(config: dict[str, Any], today: dt.date, day: dt.date) -> dt.date:
    window = config.get("makeup_cards", {}).get("window_days", MAKEUP_WINDOW_DEFAULT)
    if not today - dt.timedelta(days=window) <= day < today:
        message = _("A make-up card fills a missed day from %(first)s to %(last)s.") % {
            "first": today - dt.timedelta(days=window),
            "last": today - dt.timedelta(days=1),
        }
        raise ValidationFailed([FieldError("makeup_day", message)])
    return day


def _carry_streak_forward(member: Member, day: dt.date, streak: int) -> int:
    """A filled gap joins the days after it: renumber them; returns the streak of the last."""
    following = CheckIn.objects.filter(member=member, day__gt=day).order_by("day")
    expected = day + dt.timedelta(days=1)
    for later in following.select_for_update():
        if later.day != expected:
            break
        streak += 1
        CheckIn.objects.filter(pk=later.pk).update(streak=streak)
        expected += dt.timedelta(days=1)
    return streak


def current_streak(member: Member, today: dt.date) -> int:
    """Days in a row ending today, or ending yesterday (still alive until tonight)."""
    found = (
        CheckIn.objects.filter(member=member, day__in=[today, today - dt.timedelta(days=1)])
        .order_by("-day")
        .first()
    )
    return found.streak if found else 0


# --- make-up cards ---------------------------------------------------------------------------


def makeup_cards_of(member: Member) -> int:
    found = MakeupCards.objects.filter(member=member).values_list("count", flat=True).first()
    return found or 0


def grant_makeup_cards(
    actor: Actor, member: Member, count: int, reason: str, *, key: str | None = None
) -> int:
    """Give `member` `count` make-up cards (a streak bonus, staff, another reward); with `key`
    a retry gives nothing more. Returns the member's cards."""
    ledger.ensure_same_merchant(actor, member)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_GRANT:
        message = _("A whole number from %(low)d to %(high)d.") % {"low": 1, "high": MAX_GRANT}
        raise ValidationFailed([FieldError("count", message)])
    if not reason or not reason.strip():
        raise ValidationFailed([FieldError("reason", _("A reason is required."))])
    with transaction.atomic():
        if not _record_move(actor, member, count, reason, key):
            return makeup_cards_of(member)
        MakeupCards.objects.get_or_create(member=member)
        MakeupCards.objects.filter(member=member).update(count=F("count") + count)
    return makeup_cards_of(member)


def give_makeup_cards(
    actor: Actor, member: Member, count: int, reason: str, *, key: str | None = None
) -> int:
    """`grant_makeup_cards` by a person: HQ admins, store managers and marketers only (an API
    key or the system may too)."""
    if actor.staff is not None and actor.role not in GRANTING_ROLES:
        raise PermissionDenied(
            _("Only HQ admins, store managers and marketers may give make-up cards.")
        )
    return grant_makeup_cards(actor, member, count, reason, key=key)


def _record_move(actor: Actor, member: Member, change: int, reason: str, key: str | None) -> bool:
    """False when `key` moved cards before (nothing to do again)."""
    move = MakeupCardMove(
        merchant=actor.merchant,
        member=member,
        change=change,
        reason=reason.strip()[:200],
        key=key or f"makeup:{member.pk}:{timezone.now().timestamp()}:{change}",
    )
    try:
        with transaction.atomic():
            move.save()
    except IntegrityError:
        return False
    return True


def _take_makeup_card(actor: Actor, member: Member, day: dt.date) -> None:
    """One card less, by a guarded update: never below zero whatever the concurrency."""
    taken = MakeupCards.objects.filter(member=member, count__gte=1).update(count=F("count") - 1)
    if not taken:
        raise Conflict(_("You have no make-up card left."), "no_makeup_cards")
    reason = _("Make-up check-in for %s") % day.isoformat()
    _record_move(actor, member, -1, reason, f"makeup-use:{member.pk}:{day}")
