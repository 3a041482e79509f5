"""Member-only events over the API (API.md §11): create, sign up with a waitlist, cancel,
door check-in, and bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.activities import events_service as service
from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.campaigns.models import Message
from patron.members.services import register_member

pytestmark = pytest.mark.django_db
SOON = (timezone.now() + dt.timedelta(days=5)).replace(microsecond=0)


def event_body(**changes) -> dict:
    body = {
        "code": "TEA",
        "name": "品茶会",
        "starts_at": SOON.isoformat(),
        "ends_at": (SOON + dt.timedelta(hours=2)).isoformat(),
        "place": "西湖店二楼",
        "capacity": 2,
        "store": "S1",
    }
    return {**body, **changes}


def post(api, path: str, body: dict | None = None, **headers):
    return api.post(path, body or {}, content_type="application/json", headers=headers)


@pytest.fixture
def members(system, stores):
    return [
        register_member(
            system, {"mobile": f"1390000000{i}", "name": f"会员{i}", "consent_sms": True}
        )
        for i in range(5)
    ]


@pytest.fixture
def tea(api, stores):
    answer = post(api, "/api/v1/events", event_body())
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_create_event_answers_it_with_counts(api, tea):
    assert tea["code"] == "TEA"
    assert (tea["capacity"], tea["confirmed"], tea["waitlisted"], tea["store"]) == (2, 0, 0, "S1")
    assert api.get("/api/v1/events").json()["items"][0]["code"] == "TEA"
    assert api.get("/api/v1/events/TEA").json()["name"] == "品茶会"
    assert api.get("/api/v1/events/NOPE").status_code == 404


def test_waitlist_moves_up_in_order_and_the_promoted_member_is_told(api, tea, members):
    statuses = []
    for member in members[:4]:
        answer = post(api, "/api/v1/events/TEA/signups", {"member": member.pk})
        assert answer.status_code == 201, answer.json()
        statuses.append((answer.json()["status"], answer.json()["position"]))
    assert statuses == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    first = EventSignup.objects.get(member=members[0])

    answer = post(api, f"/api/v1/events/TEA/signups/{first.pk}/cancel")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["promoted"]["member"] == members[2].pk
    assert answer.json()["promoted"]["status"] == "confirmed"
    by_member = dict(EventSignup.objects.values_list("member_id", "status"))
    assert by_member == {
        members[0].pk: "cancelled",
        members[1].pk: "confirmed",
        members[2].pk: "confirmed",
        members[3].pk: "waitlisted",
    }
    told = Message.objects.filter(member=members[2])
    assert {m.channel for m in told} == {"inbox"}  # the merchant has no SMS channel
    inbox = told.get(channel="inbox")
    assert "品茶会" in inbox.subject and inbox.status == "sent"
    assert not Message.objects.filter(member=members[3]).exists()
    listed = api.get("/api/v1/events/TEA/signups?status=waitlisted").json()["items"]
    assert [(s["member"], s["position"]) for s in listed] == [(members[3].pk, 1)]
    assert api.get("/api/v1/events/TEA").json()["confirmed"] == 2


def test_a_member_signs_up_once(api, tea, members):
    assert post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk}).status_code == 201
    again = post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk})
    assert again.status_code == 409
    assert again.json()["code"] == "already_signed_up"
    assert EventSignup.objects.count() == 1


def test_a_cancelled_member_may_sign_up_again_at_the_end_of_the_line(api, tea, members):
    for member in members[:3]:
        post(api, "/api/v1/events/TEA/signups", {"member": member.pk})
    first = EventSignup.objects.get(member=members[0])
    post(api, f"/api/v1/events/TEA/signups/{first.pk}/cancel")
    assert post(api, f"/api/v1/events/TEA/signups/{first.pk}/cancel").json()["code"] == (
        "already_cancelled"
    )
    again = post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk})
    assert (again.status_code, again.json()["status"]) == (201, "waitlisted")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": -1}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"ends_at": (SOON - dt.timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"store": "NOPE"}, "store"),
        ({"tiers": ["nope"]}, "tiers.0"),
        ({"name": " "}, "name"),
        ({"code": "a b"}, "code"),
        ({"starts_at": "0001-01-01T00:00:00+00:00"}, "starts_at"),  # was a 500 (schemathesis)
    ],
)
def test_bad_events_are_refused_whole(api, stores, changes, field):
    answer = post(api, "/api/v1/events", event_body(**changes))
    assert answer.status_code == 422, answer.json()
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer.json()["code"] == "validation_error"
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert not MemberOnlyEvent.objects.exists()


def test_duplicate_code_is_409(api, tea):
    answer = post(api, "/api/v1/events", event_body())
    assert (answer.status_code, answer.json()["code"]) == (409, "duplicate_code")


def test_unknown_or_foreign_member_writes_nothing(api, other_api, tea, members):
    assert post(api, "/api/v1/events/TEA/signups", {"member": 999999}).status_code == 404
    assert post(api, "/api/v1/events/TEA/signups", {"member": "x"}).status_code == 422
    assert (
        post(other_api, "/api/v1/events/TEA/signups", {"member": members[0].pk}).status_code == 404
    )
    assert not EventSignup.objects.exists()


def test_a_started_event_takes_no_sign_up(api, system, tea, members):
    MemberOnlyEvent.objects.update(starts_at=timezone.now() - dt.timedelta(minutes=1))
    answer = post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk})
    assert (answer.status_code, answer.json()["code"]) == (409, "event_closed")


def test_tiers_limit_who_may_sign_up(api, system, stores, members):
    from patron.promotions.models import Tier

    Tier.objects.create(merchant=system.merchant, code="gold", name="金卡", rank=2)
    assert post(api, "/api/v1/events", event_body(tiers=["gold"])).status_code == 201
    answer = post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk})
    assert (answer.status_code, answer.json()["code"]) == (403, "tier_not_allowed")


def test_door_check_in_once_and_tampered_or_foreign_tokens_refused(api, system, tea, members):
    post(api, "/api/v1/events/TEA/signups", {"member": members[0].pk})
    signup = EventSignup.objects.get()
    token = service.door_token(signup)

    first = post(api, "/api/v1/events/TEA/checkins", {"token": token})
    assert first.status_code == 200, first.json()
    assert first.json()["checked_in_at"] is not None
    second = post(api, "/api/v1/events/TEA/checkins", {"token": token})
    assert (second.status_code, second.json()["code"]) == (409, "already_checked_in")

    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    bad = post(api, "/api/v1/events/TEA/checkins", {"token": tampered})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_token")
    post(api, "/api/v1/events", event_body(code="WINE"))
    other = post(api, "/api/v1/events/WINE/checkins", {"token": token})
    assert (other.status_code, other.json()["code"]) == (422, "wrong_event")
    assert api.get("/api/v1/events/TEA").json()["checked_in"] == 1


def test_the_promoted_member_gets_an_sms_too_when_consented(api, system, tea, members):
    from patron.campaigns.channel_program import save as save_channels

    save_channels(system.merchant, {"sms": {"provider": "http", "endpoint": "http://127.0.0.1:9/"}})
    no_sms = register_member(system, {"mobile": "13600000009", "name": "无短信"})
    for member in (members[0], members[1], no_sms, members[3]):
        post(api, "/api/v1/events/TEA/signups", {"member": member.pk})
    for signup in EventSignup.objects.filter(member__in=members[:2]):
        post(api, f"/api/v1/events/TEA/signups/{signup.pk}/cancel")

    assert set(Message.objects.filter(member=no_sms).values_list("channel", flat=True)) == {"inbox"}
    sms = Message.objects.get(member=members[3], channel="sms")
    assert sms.status == "queued" and "品茶会" in sms.body  # the sending job sends it


def test_a_retried_sign_up_with_the_same_idempotency_key_replays_the_first_answer(
    api, tea, members
):
    body = {"member": members[0].pk}
    first = post(api, "/api/v1/events/TEA/signups", body, **{"Idempotency-Key": "door-42"})
    again = post(api, "/api/v1/events/TEA/signups", body, **{"Idempotency-Key": "door-42"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert EventSignup.objects.count() == 1
