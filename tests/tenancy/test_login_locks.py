"""Console log-in locks: five failed log-ins within 15 minutes lock the user name and the
address; the login page says until when; HQ can unlock; every lockout and unlock is audited."""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client, RequestFactory
from django.utils import timezone

from patron.tenancy.actor import Actor
from patron.tenancy.middleware import client_ip
from patron.tenancy.models import AuditEntry, Role, Staff
from patron.tenancy.services import create_merchant, create_staff

pytestmark = pytest.mark.django_db
PASSWORD = "password123"  # tests/conftest.py's staff password
OFFICE = "203.0.113.7"


def log_in(username: str, password: str, ip: str = OFFICE, language: str = "en", client=None):
    client = client or Client(headers={"Accept-Language": language})
    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)
    return client, response


def fail(username: str, times: int, ip: str = OFFICE) -> None:
    for _ in range(times):
        log_in(username, "wrong-password", ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def time_travel(minutes: int) -> None:
    """Every recorded failure happened `minutes` earlier (axes reads times from its table)."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=minutes))


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(cashier):
    fail("cashier1", 4)
    client, response = log_in("cashier1", PASSWORD)
    assert response.status_code == 302 and logged_in(client)  # four are forgiven

    fail("cashier1", 5)
    client, response = log_in("cashier1", PASSWORD)

    assert response.status_code == 429 and not logged_in(client)
    page = response.content.decode()
    assert '<form method="post"' in page and 'name="password"' in page  # the login page
    message = re.search(r'id="lockout">([^<]*)<', page).group(1)
    assert "Too many failed log-ins" in message
    assert "(in 15 minutes)" in message or "(in 14 minutes)" in message
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=15), ZoneInfo("Asia/Shanghai"))
    assert f"locked until {until:%H:%M}" in message or "(in 14 minutes)" in message


def test_brute_force_is_answered_by_the_lock_and_audited_once(cashier):
    for _ in range(29):
        _client, response = log_in("cashier1", "wrong-password")
    client, response = log_in("cashier1", PASSWORD)

    assert response.status_code == 429 and not logged_in(client)
    entries = AuditEntry.objects.filter(action="lockout")
    assert entries.count() == 1  # the lock, not every refusal during it
    entry = entries.get()
    assert (entry.merchant, entry.user, entry.ip) == (cashier.merchant, None, OFFICE)
    assert (entry.object_type, entry.object_id) == ("staff", str(cashier.staff.pk))
    assert entry.store == cashier.staff.store  # the store's manager sees it too
    assert entry.changes["failed_logins"] == [None, 5]
    assert entry.changes["locked_until"][1].endswith("+08:00")  # the merchant's local time


def test_the_lock_ends_after_the_cool_off(cashier):
    fail("cashier1", 5)
    assert log_in("cashier1", PASSWORD)[1].status_code == 429

    time_travel(14)
    assert log_in("cashier1", PASSWORD)[1].status_code == 429  # refusals do not extend it
    time_travel(2)
    client, response = log_in("cashier1", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_the_message_is_in_chinese_and_in_the_merchants_time(cashier):
    cashier.merchant.timezone = "Asia/Tokyo"
    cashier.merchant.save()
    fail("cashier1", 5)
    _client, response = log_in("cashier1", PASSWORD, language="zh-hans")
    message = re.search(r'id="lockout">([^<]*)<', response.content.decode()).group(1)
    assert "登录失败次数过多" in message and "分钟" in message
    until = AccessAttempt.objects.get().attempt_time + dt.timedelta(minutes=15)
    assert f"{timezone.localtime(until, ZoneInfo('Asia/Tokyo')):%H:%M}" in message


def test_one_address_failing_on_many_user_names_is_locked_for_everyone_there(cashier, hq, caplog):
    caplog.set_level(logging.WARNING, logger="patron.tenancy.services")
    for username in ("nobody-1", "nobody-2", "admin", "root", "cashier1"):
        log_in(username, "wrong-password")

    assert log_in("hq", PASSWORD)[1].status_code == 429  # hq never failed, but this address did
    client, response = log_in("hq", PASSWORD, ip="198.51.100.9")  # elsewhere hq is fine
    assert response.status_code == 302 and logged_in(client)
    assert "user name 'cashier1', IP 203.0.113.7" in caplog.text  # the lockout, in the log
    # Audited for the merchant of the user name that was tried; unknown names only logged.
    assert list(
        AuditEntry.objects.filter(action="lockout").values_list("object_repr", flat=True)
    ) == ["cashier1"]


def test_an_unknown_user_name_locked_out_goes_to_the_log(db, caplog):
    caplog.set_level(logging.WARNING, logger="patron.tenancy.services")
    fail("no-such-user", 5)
    assert "user name 'no-such-user', IP 203.0.113.7" in caplog.text
    assert not AuditEntry.objects.filter(action="lockout").exists()


def test_one_user_name_failing_from_many_addresses_is_locked_everywhere(cashier):
    for n in range(5):
        log_in("cashier1", "wrong-password", ip=f"198.51.100.{n + 1}")
    assert log_in("cashier1", PASSWORD, ip="192.0.2.200")[1].status_code == 429


def test_hq_sees_the_lock_and_unlocks_and_both_are_audited(cashier, hq):
    fail("cashier1", 5)
    hq_client, _ = log_in("hq", PASSWORD, ip="192.0.2.1", language="en")
    cashier_row = Staff.objects.get(user__username="cashier1")

    page = hq_client.get("/staff/").content.decode()
    assert 'data-locked="cashier1"' in page and "Locked until" in page
    assert f"/staff/{cashier_row.pk}/unlock/" in page
    assert "Log-in locked until" in hq_client.get(f"/staff/{cashier_row.pk}/edit/").content.decode()

    response = hq_client.post(f"/staff/{cashier_row.pk}/unlock/")
    assert response.status_code == 302 and response["Location"] == "/staff/"

    client, response = log_in("cashier1", PASSWORD)
    assert response.status_code == 302 and logged_in(client)
    unlock = AuditEntry.objects.get(action="unlock")
    assert (unlock.user, unlock.object_id) == (hq.staff.user, str(cashier_row.pk))
    assert unlock.changes["locked_until"][1] is None
    assert 'data-locked="cashier1"' not in hq_client.get("/staff/").content.decode()

    audit_page = hq_client.get("/audit/").content.decode()
    assert "log-in locked" in audit_page and "log-in unlocked" in audit_page
    assert "locked until" in audit_page and "failed log-ins" in audit_page


def test_unlocking_clears_the_address_the_user_failed_from(cashier, hq):
    for username in ("nobody-1", "nobody-2", "nobody-3", "nobody-4", "cashier1"):
        log_in(username, "wrong-password")
    hq_client, _ = log_in("hq", PASSWORD, ip="192.0.2.1")
    pk = Staff.objects.get(user__username="cashier1").pk
    assert 'data-locked="cashier1"' in hq_client.get("/staff/").content.decode()

    hq_client.post(f"/staff/{pk}/unlock/", {"back": "edit"})

    assert log_in("cashier1", PASSWORD)[1].status_code == 302


def test_an_unlock_leaves_other_merchants_staff_locked(cashier, hq):
    other = create_merchant("other", "Other Co")
    create_staff(Actor.system(other), "b.admin", PASSWORD, Role.HQ_ADMIN)
    fail("b.admin", 3)
    fail("cashier1", 2)  # the address has its five: locked for everyone there
    assert log_in("cashier1", PASSWORD)[1].status_code == 429
    hq_client, _ = log_in("hq", PASSWORD, ip="192.0.2.1")

    hq_client.post(f"/staff/{cashier.staff.pk}/unlock/")

    assert AccessAttempt.objects.filter(username="b.admin").count() == 1  # kept: not theirs
    assert log_in("cashier1", PASSWORD)[1].status_code == 302  # three left on the address
    fail("b.admin", 2, ip="198.51.100.77")
    assert log_in("b.admin", PASSWORD, ip="198.51.100.78")[1].status_code == 429


def test_only_hq_admins_unlock(cashier, manager_client):
    fail("cashier1", 5)
    pk = Staff.objects.get(user__username="cashier1").pk
    assert manager_client.post(f"/staff/{pk}/unlock/").status_code == 403
    assert log_in("cashier1", PASSWORD)[1].status_code == 429
    assert not AuditEntry.objects.filter(action="unlock").exists()


@pytest.fixture
def manager_client(system, stores):
    create_staff(system, "manager1", PASSWORD, Role.STORE_MANAGER, stores["S1"])
    return log_in("manager1", PASSWORD, ip="192.0.2.50")[0]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no proxy: the header is the client's own words
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the address nginx saw, not the forged one
        (1, "", "10.0.0.1"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_trusts_only_the_proxies_in_front(
    settings, proxies, forwarded, expected
):
    settings.PATRON_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
