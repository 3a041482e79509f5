"""/m/privacy/correct and /m/privacy/consent: the member's own changes, validated and audited
by members, consent changes kept as history; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.campaigns.models import Message
from patron.campaigns.optout import suppression_reason
from patron.members.models import ConsentRecord, Member
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres]

VALID = {
    "name": "林小雨",
    "gender": "F",
    "birthday": "1990-05-01",
    "lunar_birthday": "04-07",
    "email": "lin@example.cn",
    "region": "浙江 杭州",
    "address": "西湖区文三路 1 号",
    "occupation": "教师",
}


def test_the_form_shows_the_members_values_and_no_mobile_field(phone, portal_member):
    html = phone.get("/m/privacy/correct").content.decode()
    assert 'value="林小雨"' in html
    assert 'name="mobile"' not in html and 'id="mobile-note"' in html  # changed at a store
    assert html.count("<label") >= 8


def test_a_correction_is_saved_and_audited(phone, portal_member):
    response = phone.post("/m/privacy/correct", {**VALID, "name": "林晓雨"})
    assert response.status_code == 302 and response["Location"].endswith("/m/privacy")
    member = Member.objects.get(pk=portal_member.pk)
    assert (member.name, member.gender, member.birthday) == ("林晓雨", "F", dt.date(1990, 5, 1))
    assert (member.lunar_birthday, member.email, member.occupation) == (
        "04-07",
        VALID["email"],
        "教师",
    )
    entry = AuditEntry.objects.filter(object_type="member", action="update").latest("id")
    assert entry.channel == "h5" and entry.changes["name"] == ["林小雨", "林晓雨"]


def test_a_future_birthday_is_refused_and_nothing_is_written(phone, portal_member):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    before = AuditEntry.objects.count()
    response = phone.post("/m/privacy/correct", {**VALID, "name": "改名", "birthday": future})
    assert response.status_code == 422
    assert "日期不能晚于今天。" in response.content.decode()
    member = Member.objects.get(pk=portal_member.pk)
    assert member.name == "林小雨" and member.birthday is None
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    "field, value", [("email", "not-an-email"), ("lunar_birthday", "13-40"), ("birthday", "x")]
)
def test_other_bad_values_are_form_errors(phone, portal_member, field, value):
    response = phone.post("/m/privacy/correct", {**VALID, field: value})
    assert response.status_code == 422
    assert 'class="m-error"' in response.content.decode()
    assert Member.objects.get(pk=portal_member.pk).email == ""


def test_withdrawing_consent_records_history_and_stops_queued_messages(phone, portal_member):
    queued = Message.objects.create(
        merchant=portal_member.merchant, member=portal_member, channel="sms", body="促销"
    )
    response = phone.post("/m/privacy/consent", {"consent_email": "on"})
    assert response.status_code == 302
    member = Member.objects.get(pk=portal_member.pk)
    assert (member.consent_sms, member.consent_wechat, member.consent_email) == (False, False, True)
    sms = list(
        ConsentRecord.objects.filter(member=member, topic="sms")
        .order_by("id")
        .values_list("granted", "method")
    )
    assert sms[0][0] is True and sms[-1] == (False, "h5")  # granted at joining, then withdrawn
    assert ConsentRecord.objects.filter(member=member, topic="email", granted=True, method="h5")
    assert suppression_reason(member, "sms") == "opted_out"
    queued.refresh_from_db()
    assert queued.status == Message.Status.FAILED


def test_the_consent_page_shows_the_current_choices(phone, portal_member):
    html = phone.get("/m/privacy/consent").content.decode()
    assert 'name="consent_sms" id="id_consent_sms" checked' in html
    assert 'name="consent_email" id="id_consent_email" checked' not in html


def test_the_pages_work_in_english(phone, portal_member):
    phone.cookies["django_language"] = "en"
    html = phone.get("/m/privacy", headers={"Accept-Language": "en"}).content.decode()
    assert "Download as JSON" in html and "Delete my account" in html
