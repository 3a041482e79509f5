"""Consent and opt-out (F-38): reasons, SMS replies, the email link, receipts, inbox API."""

from __future__ import annotations

import json

from django.test import Client

from patron.campaigns import channels
from patron.campaigns.models import Message
from patron.campaigns.optout import opt_out, suppression_reason, unsubscribe_token
from patron.campaigns.receipts import hook_url, wechat_hook_url
from patron.members.models import ConsentRecord
from patron.members.services import update_member
from tests.campaigns.channels_support import member, queued


def test_consent_never_granted_versus_withdrawn(system, stores):
    never = member(system, "13800000001")
    assert suppression_reason(never, "sms") == "consent"
    assert suppression_reason(never, "inbox") is None
    granted = member(system, "13800000002", consent_sms=True)
    assert suppression_reason(granted, "sms") is None
    update_member(system, granted, {"consent_sms": False})
    granted.refresh_from_db()
    assert suppression_reason(granted, "sms") == "opted_out"
    assert suppression_reason(member(system, "13800000003"), "email") == "consent"  # no address


def test_wechat_needs_an_openid(system, stores):
    without = member(system, "13800000001", consent_wechat=True)
    assert suppression_reason(without, "wechat") == "consent"
    with_id = member(system, "13800000002", consent_wechat=True, custom={"wechat_openid": "o-1"})
    assert suppression_reason(with_id, "wechat") is None


def test_sms_reply_t_opts_out_at_once_and_stops_queued_messages(system, stores):
    someone = member(system, consent_sms=True)
    waiting = queued(someone, "sms")
    inbox = queued(someone, "inbox")
    url = hook_url(system.merchant, "aliyun")
    reply = [{"phone_number": someone.mobile, "content": "T", "sign_name": "茶馆"}]
    answer = Client().post(url, json.dumps(reply), content_type="application/json")
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "成功"}
    someone.refresh_from_db()
    assert someone.consent_sms is False
    assert suppression_reason(someone, "sms") == "opted_out"
    assert Message.objects.get(pk=waiting.pk).error == "opted_out"
    assert Message.objects.get(pk=inbox.pk).status == Message.Status.QUEUED
    record = ConsentRecord.objects.filter(member=someone, topic="sms").first()
    assert record.granted is False


def test_tencent_reply_and_other_words(system, stores):
    someone = member(system, consent_sms=True)
    url = hook_url(system.merchant, "tencent")
    Client().post(
        url,
        {"mobile": someone.mobile, "nationcode": "86", "text": "谢谢"},
        content_type="application/json",
    )
    someone.refresh_from_db()
    assert someone.consent_sms is True
    answer = Client().post(
        url,
        {"mobile": someone.mobile, "nationcode": "86", "text": "退订"},
        content_type="application/json",
    )
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    someone.refresh_from_db()
    assert someone.consent_sms is False


def test_hook_with_a_wrong_token_is_not_found(system, stores):
    answer = Client().post(
        "/campaigns/hooks/sms/aliyun/forged/", "[]", content_type="application/json"
    )
    assert answer.status_code == 404


def test_opt_out_between_queue_and_send_stops_the_message(system, stores):
    someone = member(system, consent_sms=True)
    waiting = queued(someone, "sms")
    update_member(system, someone, {"consent_sms": False})  # e.g. at the till
    channels.send([waiting])
    assert Message.objects.get(pk=waiting.pk).error == "opted_out"


def test_receipts_mark_delivered_and_failed(system, stores):
    first = member(system, "13800000001", consent_sms=True)
    second = member(system, "13800000002", consent_sms=True)
    ok = queued(first, "sms", status="sent", provider="aliyun", provider_id="77^0:13800000001")
    bad = queued(second, "sms", status="sent", provider="aliyun", provider_id="77^0:13800000002")
    report = [
        {
            "phone_number": "13800000001",
            "success": True,
            "err_code": "DELIVERED",
            "biz_id": "77^0",
            "report_time": "2026-12-06 10:00:05",
        },
        {
            "phone_number": "13800000002",
            "success": False,
            "err_code": "MK:0001",
            "biz_id": "77^0",
            "report_time": "2026-12-06 10:00:06",
        },
    ]
    Client().post(
        hook_url(system.merchant, "aliyun"), json.dumps(report), content_type="application/json"
    )
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == Message.Status.DELIVERED
    assert ok.delivered_at.isoformat() == "2026-12-06T02:00:05+00:00"
    assert bad.status == Message.Status.FAILED and bad.error == "MK:0001"


def test_tencent_receipt(system, stores):
    someone = member(system, consent_sms=True)
    sent = queued(someone, "sms", status="sent", provider="tencent", provider_id="2645:9")
    report = [
        {
            "user_receive_time": "2026-12-06 10:00:05",
            "nationcode": "86",
            "mobile": someone.mobile,
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "sid": "2645:9",
        }
    ]
    Client().post(
        hook_url(system.merchant, "tencent"), json.dumps(report), content_type="application/json"
    )
    sent.refresh_from_db()
    assert sent.status == Message.Status.DELIVERED


WECHAT_PUSH = """<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
<CreateTime>1765000805</CreateTime><MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>%s</MsgID>
<Status><![CDATA[%s]]></Status></xml>"""


def test_wechat_template_receipts_and_url_check(system, stores):
    someone = member(system, consent_wechat=True)
    reached = queued(someone, "wechat", status="sent", provider="wechat", provider_id="200163836")
    blocked = queued(someone, "wechat", status="sent", provider="wechat", provider_id="200163837")
    url = wechat_hook_url(system.merchant)
    # WeChat checks the server URL with a GET and expects its echostr back.
    assert Client().get(url, {"echostr": "4215301"}).content == b"4215301"
    for msg_id, status in (("200163836", "success"), ("200163837", "failed:user block")):
        answer = Client().post(url, WECHAT_PUSH % (msg_id, status), content_type="text/xml")
        assert answer.content == b"success"
    reached.refresh_from_db()
    blocked.refresh_from_db()
    assert reached.status == Message.Status.DELIVERED
    assert reached.delivered_at.timestamp() == 1765000805
    assert (blocked.status, blocked.error) == (Message.Status.FAILED, "failed:user block")
    # Garbage and other events change nothing; a wrong token is not found.
    assert Client().post(url, b"<xml><oops", content_type="text/xml").content == b"success"
    wrong = url.replace("/wechat/", "/wechat/x")
    assert Client().post(wrong, b"", content_type="text/xml").status_code == 404


def test_email_unsubscribe_page(system, stores):
    someone = member(system, email="z@example.com", consent_email=True)
    url = f"/campaigns/hooks/unsubscribe/{unsubscribe_token(someone, 'email')}/"
    client = Client()
    asked = client.get(url)
    assert asked.status_code == 200 and "退订" in asked.content.decode()
    someone.refresh_from_db()
    assert someone.consent_email is True  # a GET (mail scanner) changes nothing
    done = client.post(url)
    assert done.status_code == 200
    someone.refresh_from_db()
    assert suppression_reason(someone, "email") == "opted_out"
    assert client.get("/campaigns/hooks/unsubscribe/forged/").status_code == 404


def test_opt_out_is_idempotent(system, stores):
    someone = member(system, consent_sms=True)
    opt_out(someone, "sms")
    opt_out(someone, "sms")
    assert ConsentRecord.objects.filter(member=someone, topic="sms", granted=False).count() == 1


def test_inbox_api_lists_inbox_messages_newest_first(system, stores, api):
    someone = member(system)
    older = queued(someone, "inbox", "第一条", status="sent")
    newer = queued(someone, "inbox", "第二条", status="sent", subject="标题")
    queued(someone, "sms", "短信", status="sent")
    queued(someone, "inbox", "待发", status="held")
    answer = api.get(f"/api/v1/members/{someone.pk}/messages")
    assert answer.status_code == 200, answer.content
    items = answer.json()["items"]
    assert [item["id"] for item in items] == [newer.pk, older.pk]
    assert items[0]["subject"] == "标题" and items[0]["channel"] == "inbox"
    assert set(items[0]) >= {
        "id",
        "channel",
        "subject",
        "body",
        "status",
        "created_at",
        "read_at",
        "campaign",
    }


def test_opt_out_api(system, stores, api):
    someone = member(system, consent_sms=True)
    answer = api.post(
        f"/api/v1/members/{someone.pk}/opt-outs",
        {"channel": "sms"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"channel": "sms", "reason": "opted_out"}
    bad = api.post(
        f"/api/v1/members/{someone.pk}/opt-outs",
        {"channel": "fax"},
        content_type="application/json",
    )
    assert bad.status_code == 422
