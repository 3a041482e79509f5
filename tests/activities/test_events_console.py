"""Member-only events in the console (/activities/events/): list with counts, add and edit
with form errors, the sign-ups with mobiles masked by role, cancel, and the door page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patron.activities import events_service as service
from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry

pytestmark = pytest.mark.django_db


def logged_in(actor: Actor, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def event(system, stores):
    data = service.EventInput(
        name="品茶会",
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="西湖店二楼",
        capacity=1,
    )
    return service.create_event(system, "TEA", data)


@pytest.fixture
def signed(system, event):
    members = [
        register_member(system, {"mobile": f"1380000000{i}", "name": f"会员{i}"}) for i in range(2)
    ]
    return [service.sign_up(system, event, m) for m in members]


def form_body(**changes) -> dict:
    body = {
        "code": "WINE",
        "name": "品酒会",
        "starts_at": "2030-06-12T19:00",
        "ends_at": "2030-06-12T21:00",
        "place": "滨江店",
        "capacity": "20",
        "store": "S2",
        "description": "",
    }
    return {**body, **changes}


def test_list_shows_capacity_confirmed_waitlist_checked_in(hq, signed):
    service.check_in(hq, signed[0].event, service.door_token(signed[0]))
    html = logged_in(hq).get("/activities/events/").content.decode()
    assert 'data-capacity="1"' in html
    assert 'data-confirmed="1"' in html
    assert 'data-waitlisted="1"' in html
    assert 'data-checked-in="1"' in html


def test_add_event_in_the_merchants_zone(hq, stores):
    answer = logged_in(hq).post("/activities/events/add/", form_body())
    assert answer.status_code == 302
    event = MemberOnlyEvent.objects.get(code="WINE")
    assert event.starts_at == dt.datetime(2030, 6, 12, 11, 0, tzinfo=dt.UTC)  # 19:00 Shanghai
    assert (event.capacity, event.store.code) == (20, "S2")


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"capacity": "-3"}, "capacity"), ({"ends_at": "2030-06-12T18:00"}, "ends_at")],
)
def test_bad_form_shows_errors_and_writes_nothing(hq, stores, changes, field):
    answer = logged_in(hq).post("/activities/events/add/", form_body(**changes))
    assert answer.status_code == 200
    assert field in answer.context["form"].errors
    assert not MemberOnlyEvent.objects.exists()


def test_edit_capacity_up_moves_the_waitlist(hq, signed):
    body = form_body(code="TEA", capacity="2", store="")
    answer = logged_in(hq).post("/activities/events/TEA/edit/", body)
    assert answer.status_code == 302
    assert set(EventSignup.objects.values_list("status", flat=True)) == {"confirmed"}


def test_signups_mask_mobiles_for_marketers_not_for_hq(hq, marketer, signed):
    assert "13800000000" in logged_in(hq).get("/activities/events/TEA/").content.decode()
    html = logged_in(marketer).get("/activities/events/TEA/").content.decode()
    assert "13800000000" not in html and "138****0000" in html
    seen = AuditEntry.objects.filter(action="view", object_type="memberonlyevent")
    assert [entry.user for entry in seen] == [hq.staff.user]  # HQ saw full mobiles; audited


def test_cancel_from_console_promotes_the_first_waitlisted(hq, signed):
    answer = logged_in(hq).post(f"/activities/events/TEA/signups/{signed[0].pk}/cancel/")
    assert answer.status_code == 302
    statuses = dict(EventSignup.objects.values_list("pk", "status"))
    assert statuses == {signed[0].pk: "cancelled", signed[1].pk: "confirmed"}


def test_cashier_checks_in_at_the_door_once(cashier, signed):
    client = logged_in(cashier)
    token = service.door_token(signed[0])
    first = client.post("/activities/events/TEA/door/", {"token": token})
    assert 'id="checked-in"' in first.content.decode()
    second = client.post("/activities/events/TEA/door/", {"token": token})
    assert "token" in second.context["form"].errors
    assert (
        "已" in second.context["form"].errors["token"][0]
        or "Already" in second.context["form"].errors["token"][0]
    )
    bad = client.post("/activities/events/TEA/door/", {"token": token + "x"})
    assert "token" in bad.context["form"].errors
    waitlisted = client.post(
        "/activities/events/TEA/door/", {"token": service.door_token(signed[1])}
    )
    assert "token" in waitlisted.context["form"].errors
    assert EventSignup.objects.filter(checked_in_at__isnull=False).count() == 1
    assert client.get("/activities/events/add/").status_code == 403


def test_the_audit_log_names_event_changes(hq, signed):
    logged_in(hq).post(
        "/activities/events/TEA/edit/", form_body(code="TEA", capacity="3", store="")
    )
    logged_in(hq).get("/activities/events/TEA/")
    page = logged_in(hq).get("/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "品茶会" in html and "会员专享活动" in html
