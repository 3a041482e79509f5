"""Logging in with mobile + one-time SMS code (issue 18 §2), without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.portal.models import OneTimeCode
from patron.portal.session import SESSION_KEY
from tests.portal.auth_support import sms_log_fixture  # noqa: F401 (the sms_log fixture)
from tests.portal.conftest import MOBILE

pytestmark = pytest.mark.django_db


def ask_code(client: Client, mobile: str = MOBILE, **extra):
    return client.post("/m/login" + extra.pop("query", ""), {"mobile": mobile, **extra})


def test_login_by_code_without_javascript(client, portal_member, sms_log):
    page = client.get("/m/login")
    assert page.status_code == 200 and b'name="mobile"' in page.content
    answer = ask_code(client)
    assert answer.status_code == 302 and answer.url.startswith("/m/login/code")
    code_page = client.get(answer.url)
    assert b'name="code"' in code_page.content and b'method="post"' in code_page.content
    (code,) = sms_log(MOBILE)
    row = OneTimeCode.objects.get()
    assert code not in row.code_hash and row.purpose == "login"
    done = client.post(answer.url, {"code": code, "mobile": MOBILE})
    assert done.status_code == 302 and done.url.startswith("/m/")
    assert client.session[SESSION_KEY] == {str(portal_member.merchant_id): portal_member.pk}
    assert OneTimeCode.objects.get().used_at is not None


def test_an_unknown_mobile_gets_a_code_too_then_joins_without_a_second_code(
    client, merchant, stores, sms_log
):
    mobile = "13900139000"
    answer = ask_code(client, mobile)
    assert answer.status_code == 302 and answer.url.startswith("/m/login/code")
    (code,) = sms_log(mobile)
    proven = client.post(answer.url, {"code": code})
    assert proven.status_code == 302 and proven.url.startswith("/m/join")
    form = client.get(proven.url)
    assert f'value="{mobile}"'.encode() in form.content
    joined = client.post("/m/join?store=S1", {"mobile": mobile, "name": "王五", "agree": "on"})
    assert joined.status_code == 302 and joined.url.startswith("/m/")
    assert OneTimeCode.objects.count() == 1  # no second code
    from patron.members.models import Member

    member = Member.objects.get(mobile=mobile)
    assert client.session[SESSION_KEY] == {str(merchant.pk): member.pk}


def test_wrong_code_is_a_form_error_with_tries_left(client, portal_member, sms_log):
    answer = ask_code(client)
    (code,) = sms_log(MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    page = client.post(answer.url, {"code": wrong, "mobile": MOBILE})
    assert page.status_code == 200 and "验证码错误".encode() in page.content
    assert b"4" in page.content
    assert SESSION_KEY not in client.session


def test_asking_again_too_soon_says_the_seconds_left(client, portal_member, sms_log):
    first = ask_code(client)
    page = client.get(first.url)
    assert b'data-wait="6' in page.content or b'data-wait="5' in page.content
    again = client.post("/m/login", {"mobile": MOBILE}, follow=True)
    assert "秒".encode() in again.content and b'name="code"' in again.content
    assert OneTimeCode.objects.count() == 1


def test_a_foreign_mobile_is_a_form_error(client, merchant, sms_log):
    page = ask_code(client, "+1 415 555 0123")
    assert page.status_code == 200 and b"m-error" in page.content
    assert not OneTimeCode.objects.exists()


@pytest.mark.parametrize(
    ("asked", "landing"),
    [
        ("/m/history", "/m/history"),
        ("https://evil.example/m/", "/m/"),
        ("//evil.example/m/", "/m/"),
        ("/portal/posters/", "/m/"),
    ],
)
def test_next_only_leads_to_member_pages(client, portal_member, sms_log, asked, landing):
    answer = ask_code(client, next=asked)
    (code,) = sms_log(MOBILE)
    done = client.post(answer.url, {"code": code, "next": asked})
    assert done.status_code == 302 and done.url.split("?")[0] == landing


def test_an_anonymous_card_page_leads_back_after_login(client, portal_member, sms_log):
    to_login = client.get("/m/history")
    assert to_login.status_code == 302 and "/m/login" in to_login.url
    page = client.get(to_login.url)
    assert b'name="next" value="/m/history"' in page.content


def test_a_code_for_merchant_a_does_not_log_in_at_b(client, portal_member, sms_log):
    from patron.members.services import register_member
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store

    other = create_merchant("other", "Other Co")
    create_store(Actor.system(other), "S1", "别家店")
    register_member(Actor.system(other), {"mobile": MOBILE, "name": "林小雨", "store": "S1"})
    ask_code(client, query="?merchant=acme")
    (code,) = sms_log(MOBILE)
    client.get("/m/login?merchant=other")
    page = client.post("/m/login/code?merchant=other", {"code": code, "mobile": MOBILE})
    assert page.status_code == 200 and SESSION_KEY not in client.session


def test_no_sms_channel_says_ask_at_the_store(client, portal_member, settings):
    settings.PATRON_SMS_BACKEND = "channel"
    page = ask_code(client)
    assert page.status_code == 200 and "门店".encode() in page.content
    assert not OneTimeCode.objects.exists()


def test_logout_is_a_post(phone, portal_member):
    assert phone.get("/m/logout").status_code == 302
    assert phone.session[SESSION_KEY]
    answer = phone.post("/m/logout")
    assert answer.status_code == 302 and "/m/login" in answer.url
    assert phone.session[SESSION_KEY] == {}


def test_policy_page_in_both_languages(client, merchant):
    page = client.get("/m/policy")
    assert page.status_code == 200 and "隐私政策".encode() in page.content
    assert "Acme 连锁".encode() in page.content
    english = client.get("/m/policy", headers={"Accept-Language": "en"})
    assert b"Privacy policy" in english.content


def test_login_pages_work_in_english(client, portal_member, sms_log):
    page = client.get("/m/login", headers={"Accept-Language": "en"})
    assert b"Log in with your mobile" in page.content
