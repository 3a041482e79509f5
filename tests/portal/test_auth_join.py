"""Joining from a store's QR (F-03, issue 18 §1): two steps without JavaScript, the SMS code,
consents unticked, recruitment rules, referral, joining twice logs in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from patron.cards.models import RecruitmentPolicy
from patron.members.models import Member
from patron.portal.models import OneTimeCode
from patron.portal.session import SESSION_KEY
from tests.portal.auth_support import sms_log_fixture  # noqa: F401 (the sms_log fixture)
from tests.portal.conftest import MOBILE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NEW = "13900139000"
FORM = {"mobile": NEW, "name": "王五", "birthday": "1990-05-01", "agree": "on"}


def step1(client: Client, query: str = "?store=S1", **fields):
    return client.post(f"/m/join{query}", {**FORM, **fields})


def join(client: Client, sms_log, query: str = "?store=S1", **fields):
    page = step1(client, query, **fields)
    assert page.status_code == 200 and b'name="code"' in page.content, page.content[:2000]
    (code,) = sms_log(fields.get("mobile", NEW))[-1:]
    return client.post(f"/m/join{query}", {"code": code})


def test_join_form_has_consents_unticked_and_the_policy(client, stores):
    page = client.get("/m/join?store=S1")
    text = page.content.decode()
    assert page.status_code == 200 and "西湖店" in text
    for name in ("consent_sms", "consent_wechat", "consent_email", "agree"):
        tag = text[text.index(f'name="{name}"') - 120 : text.index(f'name="{name}"') + 60]
        assert "checked" not in tag
    assert 'href="/m/policy"' in text and 'method="post"' in text and "csrfmiddlewaretoken" in text


def test_join_end_to_end(client, stores, sms_log, merchant):
    answer = join(client, sms_log, consent_sms="on", lunar_month="08", lunar_day="15")
    assert answer.status_code == 302 and answer.url.startswith("/m/")
    member = Member.objects.get(mobile=NEW)
    assert (member.name, member.birthday, member.lunar_birthday) == (
        "王五",
        dt.date(1990, 5, 1),
        "08-15",
    )
    assert (member.consent_sms, member.consent_wechat, member.consent_email) == (True, False, False)
    assert member.store.code == "S1" and member.source_channel == "h5"
    assert client.session[SESSION_KEY] == {str(merchant.pk): member.pk}
    assert OneTimeCode.objects.get().used_at is not None


def test_the_referral_code_of_the_link_credits_the_referrer(client, portal_member, sms_log):
    query = f"?store=S1&ref={portal_member.referral_code}"
    assert join(client, sms_log, query).status_code == 302
    assert Member.objects.get(mobile=NEW).referred_by == portal_member


def test_an_unknown_referral_code_is_shown(client, stores, sms_log):
    page = step1(client, "?store=S1&ref=NOSUCH")
    assert "推荐码".encode() in page.content and not OneTimeCode.objects.exists()


def test_a_recruitment_rule_refusal_is_shown_before_any_code(client, stores, merchant, sms_log):
    RecruitmentPolicy.objects.create(merchant=merchant, min_age=18)
    page = step1(client, birthday="2015-01-01")
    assert page.status_code == 200 and b'name="code"' not in page.content
    assert b"18" in page.content and b"m-error" in page.content
    assert not OneTimeCode.objects.exists() and not Member.objects.exists()


def test_joining_twice_logs_in(client, portal_member, sms_log):
    answer = join(client, sms_log, mobile=MOBILE)
    assert answer.status_code == 302
    assert Member.objects.filter(mobile=MOBILE).count() == 1
    assert client.session[SESSION_KEY] == {str(portal_member.merchant_id): portal_member.pk}
    said = [str(m) for m in get_messages(answer.wsgi_request)]
    assert said == ["该手机号已经是会员，已为您登录。"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"mobile": "+1 415 555 0123"}, "mobile"),
        ({"mobile": "4155550123"}, "mobile"),
        ({"birthday": "2999-01-01"}, "future"),
        ({"agree": ""}, "agree"),
        ({"lunar_month": "13", "lunar_day": "01"}, "lunar"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(client, stores, sms_log, fields, error):
    page = step1(client, **fields)
    assert page.status_code == 200 and b"m-error" in page.content
    assert b'name="code"' not in page.content
    assert not OneTimeCode.objects.exists() and not Member.objects.exists()


def test_a_future_birthday_message(client, stores, sms_log):
    page = step1(client, birthday="2999-01-01")
    assert "日期不能晚于今天".encode() in page.content


def test_a_wrong_code_keeps_the_data_and_registers_nobody(client, stores, sms_log):
    step1(client)
    (code,) = sms_log(NEW)
    wrong = "000000" if code != "000000" else "111111"
    page = client.post("/m/join?store=S1", {"code": wrong})
    assert page.status_code == 200 and b'name="code"' in page.content
    assert not Member.objects.exists()
    assert client.post("/m/join?store=S1", {"code": code}).status_code == 302
    assert Member.objects.get(mobile=NEW).name == "王五"


def test_an_unknown_store_is_a_clear_page(client, stores):
    page = client.get("/m/join?store=NOPE")
    assert page.status_code == 404 and b"NOPE" in page.content
    assert b'name="mobile"' not in page.content


def test_join_page_in_english(client, stores):
    page = client.get("/m/join?store=S1", headers={"Accept-Language": "en"})
    assert b"I have read and agree to the" in page.content
