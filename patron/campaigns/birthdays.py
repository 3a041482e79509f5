"""Whose birthday it is: solar (`Member.birthday`) or lunar (`Member.lunar_birthday`, "MM-DD"
in the Chinese calendar), on the day (or `days_before` it) or for the whole month.

The rules a member would expect:
- solar 29 February is kept on 28 February in a year without one;
- a lunar birthday is kept in the ordinary month of its number: a member born in a leap month
  (闰月) celebrates in the ordinary month, which every year has (the "MM-DD" we store carries
  no leap flag for that reason);
- lunar day 30 in a year whose month has 29 days is kept on day 29;
- a lunar birthday late in the lunar year (month 11 or 12) falls in January or February of the
  next solar year, so the solar year Y holds the lunar birthdays of lunar years Y-1 and Y that
  land in it (rarely none or two: the journey's occurrence `birthday:<Y>` greets once a year).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from django.db.models import Q, QuerySet
from lunardate import LunarDate

from patron.members.models import Member, MemberStatus

SOLAR = "solar"
LUNAR = "lunar"
MEMBER = "member"  # lunar when the member gave one, else solar
CALENDARS = (SOLAR, LUNAR, MEMBER)
DAY = "day"
MONTH = "month"


def solar_in(year: int, birthday: dt.date) -> dt.date:
    """The solar birthday kept in `year` (29 February on the 28th in other years)."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return birthday.replace(year=year)


def parse_lunar(value: str) -> tuple[int, int] | None:
    """'MM-DD' as (month, day), None when it is not a lunar date."""
    try:
        month, day = (int(part) for part in value.split("-"))
    except (AttributeError, ValueError):
        return None
    return (month, day) if 1 <= month <= 12 and 1 <= day <= 30 else None


def _lunar_to_solar(lunar_year: int, month: int, day: int) -> dt.date | None:
    """The solar date of an ordinary (not leap) lunar month's day; day 30 of a 29-day month
    is day 29. None outside the years lunardate knows (1900-2099)."""
    for candidate in (day, 29) if day == 30 else (day,):
        try:
            return LunarDate(lunar_year, month, candidate, False).to_solar_date()
        except ValueError:
            continue
    return None


@lru_cache(maxsize=4096)
def lunar_in(year: int, month: int, day: int) -> tuple[dt.date, ...]:
    """The solar dates in solar year `year` on which lunar MM-DD is kept (usually one)."""
    dates = (_lunar_to_solar(lunar_year, month, day) for lunar_year in (year - 1, year))
    return tuple(d for d in dates if d is not None and d.year == year)


def birthdays_in(member: Member, year: int, calendar_name: str = MEMBER) -> list[dt.date]:
    """The member's birthdays kept in solar year `year` under the journey's calendar."""
    lunar = parse_lunar(member.lunar_birthday) if member.lunar_birthday else None
    use_lunar = calendar_name == LUNAR or (calendar_name == MEMBER and lunar is not None)
    if use_lunar:
        return list(lunar_in(year, *lunar)) if lunar is not None else []
    return [solar_in(year, member.birthday)] if member.birthday else []


def _lunar_values_on(days: Iterable[dt.date]) -> list[str]:
    """Every 'MM-DD' (zero-padded, as members.validation stores it) whose lunar birthday is
    kept on one of `days`."""
    wanted = set(days)
    years = {d.year for d in wanted}
    return [
        f"{month:02d}-{day:02d}"
        for month in range(1, 13)
        for day in range(1, 31)
        if any(d in wanted for year in years for d in lunar_in(year, month, day))
    ]


def _solar_on(days: Iterable[dt.date]) -> Q:
    match = Q(pk__in=[])
    for day in days:
        match |= Q(birthday__month=day.month, birthday__day=day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            match |= Q(birthday__month=2, birthday__day=29)
    return match


def members_on(merchant_id: int, days: list[dt.date], calendar_name: str) -> QuerySet[Member]:
    """Active members of the merchant whose birthday (under `calendar_name`) is kept on one
    of `days` (a day, or every day of a month)."""
    lunar = Q(lunar_birthday__in=_lunar_values_on(days))
    solar = _solar_on(days)
    if calendar_name == LUNAR:
        match = lunar
    elif calendar_name == SOLAR:
        match = solar
    else:
        match = lunar | (solar & Q(lunar_birthday=""))
    return Member.objects.filter(match, merchant_id=merchant_id, status=MemberStatus.ACTIVE)


def days_due(today: dt.date, when: str, days_before: int) -> list[dt.date]:
    """The birthdays a journey greets today: the day `days_before` ahead, or on the first of
    the month every day of the month (nothing on the other days of the month)."""
    if when == MONTH:
        if today.day != 1:
            return []
        last = calendar.monthrange(today.year, today.month)[1]
        return [today.replace(day=day) for day in range(1, last + 1)]
    return [today + dt.timedelta(days=days_before)]
