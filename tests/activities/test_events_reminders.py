"""The day-before reminder: confirmed members of an event that starts tomorrow in the
merchant's zone hear of it once per sign-up (inbox, and SMS where allowed)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from patron.activities import events_service as service
from patron.activities.models import EventSignup
from patron.campaigns.models import Message
from patron.members.services import register_member

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
STARTS = dt.datetime(2030, 6, 12, 19, 0, tzinfo=SHANGHAI)


@pytest.fixture
def signed(system, stores):
    event = service.create_event(
        system,
        "TEA",
        service.EventInput(name="品茶会", starts_at=STARTS, place="西湖店二楼", capacity=1),
    )
    members = [
        register_member(system, {"mobile": f"1380000000{i}", "name": f"会员{i}"}) for i in range(2)
    ]
    now = STARTS - dt.timedelta(days=10)
    return [service.sign_up(system, event, m, now=now) for m in members]


def test_reminder_goes_the_day_before_once_per_confirmed_signup(signed):
    confirmed, waitlisted = signed
    assert service.send_reminders(now=dt.datetime(2030, 6, 10, 12, 0, tzinfo=SHANGHAI)) == 0
    assert service.send_reminders(now=dt.datetime(2030, 6, 11, 8, 0, tzinfo=SHANGHAI)) == 0

    day_before = dt.datetime(2030, 6, 11, 10, 5, tzinfo=SHANGHAI)
    assert service.send_reminders(now=day_before) == 1
    assert service.send_reminders(now=day_before + dt.timedelta(hours=1)) == 0

    [message] = Message.objects.filter(member=confirmed.member, channel="inbox")
    assert "品茶会" in message.subject and "西湖店二楼" in message.body
    assert not Message.objects.filter(member=waitlisted.member).exists()
    confirmed.refresh_from_db()
    assert confirmed.reminded_at == day_before


def test_no_reminder_on_the_day_itself(signed):
    assert service.send_reminders(now=dt.datetime(2030, 6, 12, 11, 0, tzinfo=SHANGHAI)) == 0
    assert not Message.objects.exists()


def test_reminder_counts_the_day_in_the_merchants_zone(signed):
    # 23:30 UTC on 10 June is 07:30 on 11 June in Shanghai: the day before, but too early;
    # 02:00 UTC on 11 June is 10:00 there.
    assert service.send_reminders(now=dt.datetime(2030, 6, 10, 23, 30, tzinfo=dt.UTC)) == 0
    assert service.send_reminders(now=dt.datetime(2030, 6, 11, 2, 0, tzinfo=dt.UTC)) == 1


def test_promoted_after_the_reminder_went_is_reminded_too(system, signed):
    confirmed, waitlisted = signed
    day_before = dt.datetime(2030, 6, 11, 10, 5, tzinfo=SHANGHAI)
    service.send_reminders(now=day_before)
    service.cancel(system, EventSignup.objects.get(pk=confirmed.pk), now=day_before)
    assert service.send_reminders(now=day_before + dt.timedelta(hours=1)) == 1
    subjects = list(
        Message.objects.filter(member=waitlisted.member, channel="inbox").values_list(
            "subject", flat=True
        )
    )
    assert len(subjects) == 2  # moved up, then the reminder


def test_the_periodic_task_is_declared():
    from patron.activities import event_tasks

    assert callable(event_tasks.remind_event_signups)
