"""core.dates.LocalDay: the local day of a moment, cut by the database, the same whether SQLite
takes its fast native path (a zone with one offset) or Django's TruncDate (a zone changing its
offset in the days read)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from patron.core.dates import LocalDay, steady_offset
from patron.members.models import Member
from patron.members.services import register_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def test_a_zone_keeps_its_offset_or_not():
    march = dt.datetime(2026, 3, 20, tzinfo=UTC)
    assert steady_offset(SHANGHAI, march, march + dt.timedelta(days=30)) == dt.timedelta(hours=8)
    assert steady_offset(BERLIN, march, march + dt.timedelta(days=30)) is None  # summer time
    assert steady_offset(BERLIN, march, march + dt.timedelta(days=3)) == dt.timedelta(hours=1)


@pytest.mark.parametrize("zone", [SHANGHAI, BERLIN])
def test_the_local_day_on_either_path(hq, zone):
    # 2026-03-29 is Berlin's change to summer time: one moment each side of local midnight.
    moments = {
        "13800138001": dt.datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC),  # Berlin 23:59:59 (+1)
        "13800138002": dt.datetime(2026, 3, 29, 22, 0, 1, tzinfo=UTC),  # Berlin 00:00:01 (+2)
        "13800138003": dt.datetime(2026, 3, 28, 15, 59, 59, tzinfo=UTC),  # Shanghai 23:59:59
        "13800138004": dt.datetime(2026, 3, 28, 16, 0, 1, tzinfo=UTC),  # Shanghai 00:00:01
    }
    for mobile, moment in moments.items():
        member = register_member(hq, {"mobile": mobile})
        Member.objects.filter(pk=member.pk).update(joined_at=moment)
    since, until = dt.datetime(2026, 3, 27, tzinfo=UTC), dt.datetime(2026, 4, 2, tzinfo=UTC)
    days = dict(
        Member.objects.annotate(
            day=LocalDay("joined_at", zone, steady_offset(zone, since, until))
        ).values_list("mobile", "day")
    )
    assert days == {mobile: moment.astimezone(zone).date() for mobile, moment in moments.items()}
