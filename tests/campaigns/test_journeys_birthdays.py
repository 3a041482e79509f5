"""Birthdays: solar and lunar (leap months, day 30 of a 29-day month, 29 February), on the
day, days before or for the month, from 09:00 local, once a year even if edited."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from lunardate import LunarDate

from patron.campaigns import birthdays, journeys
from tests.campaigns.journeys_support import Recorder, install, journey, make_member

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    return install(monkeypatch)


def at(day: dt.date, hour: int = 9, minute: int = 30) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_solar_29_february_is_kept_on_the_28th_in_other_years():
    born = dt.date(2000, 2, 29)
    assert birthdays.solar_in(2027, born) == dt.date(2027, 2, 28)
    assert birthdays.solar_in(2028, born) == dt.date(2028, 2, 29)


def test_a_leap_month_birthday_is_kept_in_the_ordinary_month():
    # 2023 had a leap second month (闰二月): lunar 02-10 is kept in the ordinary one.
    ordinary = LunarDate(2023, 2, 10, False).to_solar_date()
    leap = LunarDate(2023, 2, 10, True).to_solar_date()
    assert ordinary != leap
    assert birthdays.lunar_in(2023, 2, 10) == (ordinary,)


def test_lunar_day_30_in_a_29_day_month_is_kept_on_the_29th():
    # The twelfth month of lunar 2026 has 29 days: its "day 30" falls in February 2027.
    day_29 = LunarDate(2026, 12, 29).to_solar_date()
    assert day_29.year == 2027
    assert birthdays.lunar_in(2027, 12, 30) == (day_29,)
    # A month of 30 days keeps day 30.
    assert birthdays.lunar_in(2026, 1, 30) == (LunarDate(2026, 1, 30).to_solar_date(),)


def test_lunar_twelfth_month_birthdays_land_in_the_next_solar_year():
    assert birthdays.lunar_in(2027, 12, 8) == (LunarDate(2026, 12, 8).to_solar_date(),)
    assert all(d.year == 2026 for d in birthdays.lunar_in(2026, 12, 8))


def test_members_greeted_on_their_day_solar_lunar_and_by_the_member_s_choice(merchant, recorder):
    today = dt.date(2026, 12, 6)
    lunar_today = LunarDate.from_solar_date(2026, 12, 6)
    lunar_mmdd = f"{lunar_today.month:02d}-{lunar_today.day:02d}"
    solar = make_member(merchant, 1, birthday=dt.date(1990, 12, 6))
    lunar = make_member(merchant, 2, lunar_birthday=lunar_mmdd)
    both = make_member(merchant, 3, birthday=dt.date(1990, 12, 6), lunar_birthday="01-01")
    make_member(merchant, 4, birthday=dt.date(1990, 12, 7))
    by_member = journey(merchant, {"event": "birthday"})
    by_solar = journey(merchant, {"event": "birthday", "calendar": "solar"})
    by_lunar = journey(merchant, {"event": "birthday", "calendar": "lunar"})

    assert journeys.greet_birthdays(merchant, at(today, 8, 59)) == 0  # before 09:00 local
    assert recorder.contacts == []
    journeys.greet_birthdays(merchant, at(today))
    # "member": lunar for those who gave one (so `both` waits for lunar new year).
    assert sorted(recorder.reached(by_member)) == [solar.pk, lunar.pk]
    assert sorted(recorder.reached(by_solar)) == [solar.pk, both.pk]
    assert recorder.reached(by_lunar) == [lunar.pk]
    assert {c["occurrence"] for c in recorder.contacts} == {"birthday:2026"}
    first = next(c for c in recorder.contacts if c["campaign"] == by_member.pk)
    assert first["context"][solar.pk] == {"birthday": "2026-12-06"}


def test_greeted_once_a_year_even_if_the_birthday_is_edited(merchant, recorder):
    member = make_member(merchant, 1, birthday=dt.date(1990, 12, 6))
    greeting = journey(merchant, {"event": "birthday", "calendar": "solar"})
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 6)))
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 6), 15))  # a later hourly run
    assert recorder.reached(greeting) == [member.pk]
    member.birthday = dt.date(1990, 12, 20)
    member.save()
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 20)))
    assert recorder.reached(greeting) == [member.pk]  # still once in 2026
    journeys.greet_birthdays(merchant, at(dt.date(2027, 12, 20)))
    assert recorder.reached(greeting) == [member.pk, member.pk]  # and again in 2027


def test_29_february_members_are_greeted_on_the_28th(merchant, recorder):
    leapling = make_member(merchant, 1, birthday=dt.date(2000, 2, 29))
    greeting = journey(merchant, {"event": "birthday", "calendar": "solar"})
    journeys.greet_birthdays(merchant, at(dt.date(2027, 2, 28)))
    assert recorder.reached(greeting) == [leapling.pk]


def test_days_before_and_the_whole_month(merchant, recorder):
    soon = make_member(merchant, 1, birthday=dt.date(1990, 12, 9))
    later = make_member(merchant, 2, birthday=dt.date(1985, 12, 31))
    make_member(merchant, 3, birthday=dt.date(1985, 11, 30))
    ahead = journey(merchant, {"event": "birthday", "calendar": "solar", "days_before": 3})
    monthly = journey(merchant, {"event": "birthday", "calendar": "solar", "when": "month"})
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 6)))
    assert recorder.reached(ahead) == [soon.pk]
    assert recorder.reached(monthly) == []  # the month's greetings go out on the 1st
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 1)))
    assert sorted(recorder.reached(monthly)) == [soon.pk, later.pk]


def test_a_lunar_birthday_for_the_month(merchant, recorder):
    # Lunar 11-01 of 2026 is a day of December 2026 in the solar calendar.
    solar = LunarDate(2026, 11, 1).to_solar_date()
    assert solar.month == 12
    member = make_member(merchant, 1, lunar_birthday="11-01")
    monthly = journey(merchant, {"event": "birthday", "when": "month"})
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 1)))
    assert recorder.reached(monthly) == [member.pk]


def test_the_audience_restricts_who_is_greeted(merchant, recorder):
    vip = make_member(merchant, 1, birthday=dt.date(1990, 12, 6))
    make_member(merchant, 2, birthday=dt.date(1991, 12, 6))
    greeting = journey(merchant, {"event": "birthday"}, audience={"filter": {"ids": [vip.pk]}})
    journeys.greet_birthdays(merchant, at(dt.date(2026, 12, 6)))
    assert recorder.reached(greeting) == [vip.pk]
