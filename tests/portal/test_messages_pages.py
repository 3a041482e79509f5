"""/m/messages (issue 18 §4): the member's inbox with unread counts, one message opened and
marked read, and opting out of marketing per channel through the campaigns' opt-out."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patron.campaigns import channels
from patron.campaigns.models import Message
from patron.campaigns.optout import suppression_reason
from patron.members.models import ConsentRecord
from patron.members.services import register_member
from patron.portal.templatetags.portal import unread_count
from tests.campaigns.channels_support import queued
from tests.portal.conftest import log_in_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(portal_member, system):
    other = register_member(system, {"mobile": "13900000000", "store": "S1"})
    return {
        "older": queued(portal_member, "inbox", "欢迎加入会员", status="sent", subject="欢迎"),
        "newer": queued(
            portal_member, "inbox", "本周末会员日八折", status="sent", subject="会员日"
        ),
        "sms": queued(portal_member, "sms", "短信内容不在收件箱", status="sent"),
        "held": queued(portal_member, "inbox", "还没发出的消息", status="held"),
        "other": queued(other, "inbox", "别人的消息", status="sent", subject="别人的"),
    }


def test_inbox_lists_the_members_sent_inbox_messages_newest_first(phone, inbox):
    html = phone.get("/m/messages").content.decode()
    assert html.index("会员日") < html.index("欢迎")
    for absent in ("短信内容不在收件箱", "还没发出的消息", "别人的"):
        assert absent not in html
    assert "2 条未读消息" in html
    assert 'class="m-badge"' in html and ">2</span>" in html  # the tab's count


def test_opening_a_message_marks_it_read_and_the_count_goes_down(phone, inbox):
    page = phone.get(f"/m/messages/{inbox['newer'].pk}")
    assert page.status_code == 200
    assert "本周末会员日八折" in page.content.decode()
    inbox["newer"].refresh_from_db()
    assert inbox["newer"].read_at is not None
    html = phone.get("/m/messages").content.decode()
    assert "1 条未读消息" in html and ">1</span>" in html
    first_read = inbox["newer"].read_at
    phone.get(f"/m/messages/{inbox['newer'].pk}")
    inbox["newer"].refresh_from_db()
    assert inbox["newer"].read_at == first_read  # read once, the first time


def test_another_members_message_is_not_found(phone, inbox):
    assert phone.get(f"/m/messages/{inbox['other'].pk}").status_code == 404
    assert phone.get(f"/m/messages/{inbox['held'].pk}").status_code == 404
    assert phone.get(f"/m/messages/{inbox['sms'].pk}").status_code == 404
    inbox["other"].refresh_from_db()
    assert inbox["other"].read_at is None


def test_unread_count_is_one_query_and_zero_without_a_member(portal_member, inbox):
    with CaptureQueriesContext(connection) as queries:
        assert unread_count({"member": portal_member}) == 2
    assert len(queries) == 1
    assert unread_count({}) == 0


def test_opt_out_withdraws_sms_consent_and_later_sms_is_suppressed(phone, portal_member):
    page = phone.get("/m/messages").content.decode()
    assert "停止通过短信接收优惠" in page and 'href="/m/privacy"' in page
    answer = phone.post("/m/messages/opt-out", {"channel": "sms"}, follow=True)
    assert answer.status_code == 200
    assert "您将不再通过短信收到优惠信息" in answer.content.decode()
    portal_member.refresh_from_db()
    assert portal_member.consent_sms is False
    record = ConsentRecord.objects.filter(member=portal_member, topic="sms").first()
    assert record.granted is False and record.method == "h5"
    assert suppression_reason(portal_member, "sms") == "opted_out"
    later = queued(portal_member, "sms", "新品上市")
    channels.send([later])
    assert Message.objects.get(pk=later.pk).error == "opted_out"


def test_a_bad_channel_is_refused_and_nothing_is_written(phone, portal_member):
    before = ConsentRecord.objects.filter(member=portal_member).count()
    for channel in ("fax", "inbox", ""):
        answer = phone.post("/m/messages/opt-out", {"channel": channel})
        assert answer.status_code == 400
        assert 'role="alert"' in answer.content.decode()
    portal_member.refresh_from_db()
    assert portal_member.consent_sms is True
    assert ConsentRecord.objects.filter(member=portal_member).count() == before


def test_opt_out_needs_a_post_and_a_login(phone, portal_member):
    assert phone.get("/m/messages/opt-out").status_code == 405
    anonymous = Client().post("/m/messages/opt-out", {"channel": "sms"})
    assert anonymous.status_code == 302
    portal_member.refresh_from_db()
    assert portal_member.consent_sms is True


def test_messages_in_english(phone, inbox):
    phone.post("/i18n/setlang/", {"language": "en", "next": "/m/messages"})
    html = phone.get("/m/messages").content.decode()
    assert "2 unread messages" in html and "Stop offers by SMS" in html


def test_another_merchants_login_sees_nothing(inbox, portal_member):
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store

    elsewhere = create_merchant("other", "Other Co")
    create_store(Actor.system(elsewhere), "S1", "别家店")
    stranger = register_member(
        Actor.system(elsewhere), {"mobile": portal_member.mobile, "store": "S1"}
    )
    phone = log_in_as(Client(), stranger)
    assert phone.get(f"/m/messages/{inbox['newer'].pk}?merchant=other").status_code == 404
    assert "会员日" not in phone.get("/m/messages?merchant=other").content.decode()
