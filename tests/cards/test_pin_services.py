"""The member's PIN (F-07): set, change with the old PIN, reset by staff after an identity
check; argon2 hashes; lockout after wrong attempts, counted across channels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patron import settings as real_settings
from patron.cards import pins
from patron.cards.models import CardEvent
from patron.core.errors import DomainError
from patron.program.services import apply_program
from patron.sales.models import MemberPin
from patron.sales.services import verify_pin
from patron.tenancy.models import AuditEntry
from tests.cards.memberships_support import card_program_fixture, member_fixture  # noqa: F401
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def pin_url(member, rest=""):
    return f"/api/v1/members/{member.pk}/pin{rest}"


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_settings_hash_pins_with_argon2():
    # The tests' own settings swap in a fast hasher (tests/conftest.py): read the real ones.
    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_pin_is_stored_as_an_argon2_hash(system, member, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    pins.set_member_pin(system, member, "135790")
    stored = MemberPin.objects.get(member=member).pin_hash
    assert stored.startswith("argon2$argon2id$") and "135790" not in stored
    verify_pin(system, member, "135790")


def test_set_change_and_reset_are_card_events(api, cashier, member):
    assert api.put(pin_url(member), {"pin": "135790"}, "application/json").status_code == 204
    answer = api.post(
        pin_url(member, "/change"), {"old_pin": "135790", "pin": "246801"}, "application/json"
    )
    assert answer.status_code == 204, answer.content
    verify_pin(cashier, member, "246801")
    pins.reset_member_pin(cashier, member, "975310", identity_checked=True)
    verify_pin(cashier, member, "975310")
    kinds = list(CardEvent.objects.filter(member=member).values_list("kind", "user"))
    assert kinds == [("pin_reset", cashier.user.pk), ("pin_changed", None), ("pin_set", None)]
    reset = AuditEntry.objects.filter(object_type="member", user=cashier.user).get()
    assert reset.changes["pin"][1]  # the step in words, with who did it


def test_a_wrong_old_pin_counts_as_a_wrong_attempt(api, member, system):
    pins.set_member_pin(system, member, "135790")
    answer = api.post(
        pin_url(member, "/change"), {"old_pin": "111112", "pin": "246801"}, "application/json"
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "pin_invalid")
    assert MemberPin.objects.get(member=member).failed_attempts == 1
    verify_pin(system, member, "135790")  # unchanged


def test_a_bad_new_pin_costs_no_attempt(api, member, system):
    pins.set_member_pin(system, member, "135790")
    for pin in ("12345", "1234567", "888888", "12a456"):
        answer = api.post(
            pin_url(member, "/change"), {"old_pin": "000001", "pin": pin}, "application/json"
        )
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error"), pin
        answer = api.put(pin_url(member), {"pin": pin}, "application/json")
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error"), pin
    assert MemberPin.objects.get(member=member).failed_attempts == 0


def test_reset_needs_the_identity_check(api, member, system):
    pins.set_member_pin(system, member, "135790")
    answer = api.post(pin_url(member, "/reset"), {"pin": "246801"}, "application/json")
    assert (answer.status_code, answer.json()["code"]) == (422, "identity_not_checked")
    verify_pin(system, member, "135790")
    assert not CardEvent.objects.filter(kind="pin_reset").exists()


def test_a_marketer_may_not_reset(marketer, member):
    error = refused(
        lambda: pins.reset_member_pin(marketer, member, "246801", identity_checked=True)
    )
    assert error.status == 403


def test_five_wrong_attempts_lock_across_channels(api, cashier, member, system):
    pins.set_member_pin(system, member, "135790")
    for _ in range(2):
        assert refused(lambda: verify_pin(cashier, member, "000001")).code == "pin_invalid"
    for _ in range(2):  # the API's PIN change counts toward the same lock
        api.post(
            pin_url(member, "/change"), {"old_pin": "000001", "pin": "246801"}, "application/json"
        )
    last = refused(lambda: verify_pin(system, member, "000001"))
    assert (last.code, last.status) == ("pin_locked", 423)
    record = MemberPin.objects.get(member=member)
    assert record.failed_attempts == 5
    assert record.locked_until - timezone.now() > dt.timedelta(minutes=29)
    assert refused(lambda: verify_pin(cashier, member, "135790")).code == "pin_locked"
    assert MemberPin.objects.get(member=member).failed_attempts == 5  # a locked try is not one
    # After the lock a new count starts, and the right PIN works again.
    MemberPin.objects.filter(member=member).update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert refused(lambda: verify_pin(cashier, member, "000001")).code == "pin_invalid"
    assert MemberPin.objects.get(member=member).failed_attempts == 1
    verify_pin(cashier, member, "135790")
    assert MemberPin.objects.get(member=member).failed_attempts == 0


def test_the_limits_come_from_the_program(system, member):
    apply_program(system, {"checkout": {"pin_max_attempts": 3, "pin_lock_minutes": 10}})
    pins.set_member_pin(system, member, "135790")
    codes = [refused(lambda: verify_pin(system, member, "000001")).code for _ in range(3)]
    assert codes == ["pin_invalid", "pin_invalid", "pin_locked"]
    until = MemberPin.objects.get(member=member).locked_until
    assert dt.timedelta(minutes=9) < until - timezone.now() <= dt.timedelta(minutes=10)


def test_a_reset_unlocks(cashier, member, system):
    pins.set_member_pin(system, member, "135790")
    for _ in range(5):
        refused(lambda: verify_pin(system, member, "000001"))
    pins.reset_member_pin(cashier, member, "246801", identity_checked=True)
    verify_pin(system, member, "246801")


def test_console_reset_button(cashier, member, system):
    pins.set_member_pin(system, member, "135790")
    client: Client = logged_in(cashier)
    page = client.get(f"/members/{member.pk}/")
    assert b'name="identity_checked"' in page.content
    target = f"/memberships/member/{member.pk}/pin-reset/"
    answer = client.post(target, {"pin": "246801", "pin_again": "246801"})
    assert answer.status_code == 200 and b"identity" in answer.content.lower()
    verify_pin(system, member, "135790")
    answer = client.post(target, {"pin": "246801", "pin_again": "246801", "identity_checked": "on"})
    assert answer.status_code == 302
    verify_pin(system, member, "246801")
