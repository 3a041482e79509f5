"""/m/events: the member sees the events they may join, signs up and cancels with plain
forms, sees their place on the waitlist and the door QR."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patron.activities import events_service as service
from patron.activities.models import EventSignup
from patron.members.services import register_member
from tests.portal.conftest import log_in_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_member(system, stores):
    return register_member(system, {"mobile": "13512345678", "name": "林小雨", "store": "S1"})


@pytest.fixture
def phone(portal_member) -> Client:
    """A phone's browser in WeChat, logged in as portal_member."""
    return log_in_as(
        Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) MicroMessenger/8.0"), portal_member
    )


def make_event(system, code="TEA", capacity=1, **changes):
    data = service.EventInput(
        name=changes.pop("name", "品茶会"),
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="西湖店二楼",
        capacity=capacity,
        **changes,
    )
    return service.create_event(system, code, data)


def test_list_shows_open_events_only(system, phone):
    make_event(system)
    make_event(system, "OLD", name="旧活动")
    from patron.activities.models import MemberOnlyEvent

    MemberOnlyEvent.objects.filter(code="OLD").update(
        starts_at=timezone.now() - dt.timedelta(days=1)
    )
    page = phone.get("/m/events")
    assert page.status_code == 200
    html = page.content.decode()
    assert "品茶会" in html and "旧活动" not in html
    assert 'href="/m/events/TEA"' in html


def test_sign_up_then_cancel_from_the_page(system, phone, portal_member):
    make_event(system, capacity=2)
    page = phone.get("/m/events/TEA")
    assert 'id="sign-up"' in page.content.decode()

    answer = phone.post("/m/events/TEA", {"action": "signup"}, follow=True)

    signup = EventSignup.objects.get(member=portal_member)
    assert signup.status == "confirmed"
    html = answer.content.decode()
    assert 'id="event-qr"' in html and "<svg" in html and 'class="qr"' in html
    assert "已确认" in html or "Confirmed" in html
    assert "<script>" not in html and 'style="' not in html

    phone.post("/m/events/TEA", {"action": "cancel"}, follow=True)
    signup.refresh_from_db()
    assert signup.status == "cancelled"
    assert 'id="sign-up"' in phone.get("/m/events/TEA").content.decode()


def test_full_event_puts_the_member_on_the_waitlist_with_their_position(
    system, phone, portal_member
):
    event = make_event(system, capacity=1)
    other = register_member(system, {"mobile": "13700000001", "name": "王"})
    service.sign_up(system, event, other)

    answer = phone.post("/m/events/TEA", {"action": "signup"}, follow=True)

    html = answer.content.decode()
    assert EventSignup.objects.get(member=portal_member).status == "waitlisted"
    assert 'id="waitlist-position"' in html and 'id="event-qr"' not in html
    service.cancel(system, EventSignup.objects.get(member=other))
    html = phone.get("/m/events/TEA").content.decode()
    assert 'id="event-qr"' in html


def test_signing_up_twice_says_so_and_writes_nothing(system, phone, portal_member):
    make_event(system, capacity=2)
    phone.post("/m/events/TEA", {"action": "signup"})
    answer = phone.post("/m/events/TEA", {"action": "signup"}, follow=True)
    assert answer.status_code == 200
    assert EventSignup.objects.filter(member=portal_member).count() == 1
    assert "m-alert-error" in answer.content.decode()


def test_unknown_event_is_404_and_anonymous_goes_to_login(system, phone, client):
    assert phone.get("/m/events/NOPE").status_code == 404
    make_event(system)
    assert client.get("/m/events/TEA?merchant=acme").status_code == 302


def test_english_page(system, phone):
    make_event(system)
    phone.post("/i18n/setlang/", {"language": "en", "next": "/m/events"})
    html = phone.get("/m/events/TEA", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign up" in html
