"""Paid memberships through the API (API.md §7), the expiry command and job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.cards.models import CardPayment, Membership
from patron.server.jobs import periodic_job_names
from tests.cards.memberships_support import card_program_fixture, member_fixture  # noqa: F401
from tests.cli_support import cli_in_process

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def url(member, rest=""):
    return f"/api/v1/members/{member.pk}/memberships{rest}"


def test_buy_renew_list_and_refund(api, member):
    answer = api.post(
        url(member), {"product": "svip", "payment_method": "alipay"}, "application/json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["product"], body["tier"], body["fee_paid"]) == ("svip", "gold", 19900)
    valid_until = dt.datetime.fromisoformat(body["valid_until"])
    assert valid_until - dt.datetime.fromisoformat(body["valid_from"]) == dt.timedelta(days=365)
    assert body["receipt_no"]
    assert api.get(f"/api/v1/members/{member.pk}").json()["tier"] == "gold"

    renewal = api.post(url(member), {"product": "svip"}, "application/json").json()
    assert dt.datetime.fromisoformat(renewal["valid_from"]) == valid_until

    listed = api.get(url(member)).json()
    assert [row["id"] for row in listed["items"]] == [renewal["id"], body["id"]]
    assert listed["paid_until"] == renewal["valid_until"]

    refund = api.post(url(member, f"/{renewal['id']}/refund"), {}, "application/json")
    assert refund.status_code == 200, refund.content
    assert refund.json()["amount"] == 19900  # not begun: all of it
    assert refund.json()["tier"] == "gold"  # the first period still runs
    assert CardPayment.objects.get(kind="membership_refund").amount == -19900


def test_idempotency_key_replays(api, member):
    headers = {"Idempotency-Key": "buy-1"}
    first = api.post(url(member), {"product": "svip"}, "application/json", headers=headers)
    again = api.post(url(member), {"product": "svip"}, "application/json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Membership.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"product": "nope"}, 422, "unknown_product"),
        ({"product": "std"}, 422, "not_a_paid_membership"),
        ({"product": "svip", "payment_method": "gold-bars"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
def test_bad_purchases(api, member, body, status, code):
    answer = api.post(url(member), body, "application/json")
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code
    assert not Membership.objects.exists()


def test_refund_refused_by_the_rule_and_of_unknown_periods(api, member):
    bought = api.post(url(member), {"product": "month"}, "application/json").json()
    answer = api.post(url(member, f"/{bought['id']}/refund"), {}, "application/json")
    assert (answer.status_code, answer.json()["code"]) == (409, "refund_not_allowed")
    answer = api.post(url(member, "/999999/refund"), {}, "application/json")
    assert answer.status_code == 404


def test_another_merchants_member_is_not_found(other_api, member):
    assert other_api.post(url(member), {"product": "svip"}, "application/json").status_code == 404


def test_expire_command(api, member):
    bought = api.post(url(member), {"product": "svip"}, "application/json").json()
    # --as-of DATE is the start of that day in the merchant's zone (Asia/Shanghai), which runs
    # ahead of UTC: 367 days on from the UTC date is past a 365-day period at any hour.
    later = (timezone.now() + dt.timedelta(days=367)).date().isoformat()
    assert cli_in_process("memberships", "expire", "--as-of", later) == 0
    assert Membership.objects.get(pk=bought["id"]).status == "expired"
    assert api.get(f"/api/v1/members/{member.pk}").json()["tier"] == "normal"
    assert cli_in_process("memberships", "expire", "--as-of", "not-a-date") != 0


def test_the_expiry_job_is_scheduled():
    assert "cards.expire_memberships" in periodic_job_names()
