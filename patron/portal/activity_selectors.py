"""Which activities the card page /m/ links to: only those the merchant offers now, so a member
never lands on an empty page. One small query each; nothing is drawn or counted here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from patron.activities import checkin, events_service
from patron.activities.models import Lottery, Reward
from patron.members.models import Member


@dataclass(frozen=True)
class ActivityLinks:
    mall: bool
    lottery: bool
    checkin: bool
    events: bool

    @property
    def any(self) -> bool:
        return self.mall or self.lottery or self.checkin or self.events


def _running(now: dt.datetime) -> Q:
    """Started (or no start) and not ended: the same test as Reward.is_open and lottery.is_open."""
    started = Q(starts_at__isnull=True) | Q(starts_at__lte=now)
    return started & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


def offered(member: Member, now: dt.datetime | None = None) -> ActivityLinks:
    now = now or timezone.now()
    live = _running(now)
    merchant_id = member.merchant_id
    return ActivityLinks(
        mall=Reward.objects.filter(live, merchant_id=merchant_id, is_active=True).exists(),
        lottery=Lottery.objects.filter(live, merchant_id=merchant_id, is_active=True).exists(),
        checkin=bool(checkin.rules(merchant_id)),
        events=bool(events_service.open_events(member, now)),
    )
