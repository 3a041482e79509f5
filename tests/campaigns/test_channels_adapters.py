"""Each provider adapter against its local fake: signature, template code, answer codes;
channels.send updates the rows and emits message.sent (F-37)."""

from __future__ import annotations

import pytest

from patron.campaigns import channels
from patron.campaigns.models import Message
from patron.events.models import Event
from tests.campaigns.channels_support import configure, member, queued
from tests.campaigns.fakes import (
    FakeAliyun,
    FakeGateway,
    FakeSmtp,
    FakeTencent,
    FakeWechat,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _members(system, count: int, **data):
    return [member(system, f"1380013{i:04d}", consent_sms=True, **data) for i in range(count)]


def test_inbox_messages_are_sent_at_once(system, stores):
    message = queued(member(system), "inbox", "欢迎")
    channels.send([message])
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sent_at is not None
    event = Event.objects.get(type="message.sent")
    assert event.member_id == message.member_id and event.data["message"] == message.pk


def test_available_lists_the_configured_channels(system, stores):
    assert channels.available(system.merchant) == ["inbox"]
    configure(system.merchant, sms={"provider": "http", "endpoint": "http://x"})
    assert channels.available(system.merchant) == ["inbox", "sms"]


def test_aliyun_batch_is_signed_and_records_biz_ids(system, stores):
    with FakeAliyun() as fake:
        configure(system.merchant, sms=fake.settings())
        messages = [queued(m, "sms", f"您好{m.pk}回T退订") for m in _members(system, 3)]
        messages.append(queued(member(system, "13900000000", consent_sms=True), "sms", "单条"))
        channels.send(messages[:3])
        channels.send(messages[3:])
    assert fake.requests == 2  # one SendBatchSms, one SendSms
    assert {row["template"] for row in fake.sent} == {"SMS_CONTENT"}
    assert fake.sent[0]["params"] == {"content": messages[0].body}
    for message in messages:
        message.refresh_from_db()
        assert message.status == Message.Status.SENT and message.provider == "aliyun"
        assert message.provider_id.endswith(f":{message.member.mobile}")
    assert Event.objects.filter(type="message.sent").count() == 4


def test_aliyun_answer_codes_fail_the_messages(system, stores):
    with FakeAliyun() as fake:
        fake.limited.add("13800130001")
        configure(system.merchant, sms=fake.settings())
        members = _members(system, 2)
        limited = [queued(m, "sms") for m in members]
        channels.send(limited)
        configure(system.merchant, sms=fake.settings(template_code="SMS_UNKNOWN"))
        unknown = queued(members[0], "sms")
        channels.send([unknown])
        configure(system.merchant, sms=fake.settings(access_key_secret="wrong"))
        unsigned = queued(members[0], "sms")
        channels.send([unsigned])
    errors = {m.pk: Message.objects.get(pk=m.pk).error for m in [*limited, unknown, unsigned]}
    assert errors[limited[0].pk] == errors[limited[1].pk] == "isv.BUSINESS_LIMIT_CONTROL"
    assert errors[unknown.pk] == "isv.SMS_TEMPLATE_ILLEGAL"
    assert errors[unsigned.pk] == "SignatureDoesNotMatch"
    assert not Message.objects.exclude(status=Message.Status.FAILED).exists()
    assert fake.sent == [] and not Event.objects.filter(type="message.sent").exists()


def test_tencent_is_tc3_signed_and_maps_status_codes(system, stores):
    with FakeTencent() as fake:
        fake.limited.add("13800130001")
        configure(system.merchant, sms=fake.settings())
        members = _members(system, 3)
        messages = [queued(m, "sms", "同一条通知回T退订") for m in members]
        messages.append(
            queued(members[0], "sms", "个性化", provider_template="100", params={"name": "张三"})
        )
        channels.send(messages)
    assert fake.requests == 2  # the three identical texts in one request
    assert sorted(row["mobile"] for row in fake.sent if row["template"] == "200") == [
        "13800130000",
        "13800130002",
    ]
    assert {tuple(row["params"]) for row in fake.sent if row["template"] == "200"} == {
        ("同一条通知回T退订",)
    }
    assert any(row["template"] == "100" and row["params"] == ["张三"] for row in fake.sent)
    states = {m.pk: Message.objects.get(pk=m.pk) for m in messages}
    assert states[messages[1].pk].error == "LimitExceeded.PhoneNumberDailyLimit"
    assert states[messages[0].pk].provider_id.startswith("2645:")
    assert [s.status for s in states.values()].count(Message.Status.SENT) == 3


def test_tencent_bad_secret_or_template_fails_with_the_providers_code(system, stores):
    with FakeTencent() as fake:
        someone = _members(system, 1)[0]
        configure(system.merchant, sms=fake.settings(access_key_secret="wrong"))
        unsigned = queued(someone, "sms")
        channels.send([unsigned])
        configure(system.merchant, sms=fake.settings(template_code="999"))
        untemplated = queued(someone, "sms")
        channels.send([untemplated])
    assert Message.objects.get(pk=unsigned.pk).error == "AuthFailure.SignatureFailure"
    assert (
        Message.objects.get(pk=untemplated.pk).error
        == "FailedOperation.TemplateIncorrectOrUnapproved"
    )


def test_http_gateway(system, stores):
    with FakeGateway() as fake:
        configure(system.merchant, sms=fake.settings())
        message = queued(_members(system, 1)[0], "sms", "网关")
        channels.send([message])
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.provider_id.startswith("gw-")
    assert fake.sent[0]["text"] == "网关"


def test_email_over_smtp(system, stores):
    with FakeSmtp() as smtp:
        smtp.refused.add("bad@example.com")
        configure(system.merchant, email=smtp.settings())
        good = member(system, "13800000001", email="good@example.com", consent_email=True)
        bad = member(system, "13800000002", email="bad@example.com", consent_email=True)
        messages = [
            queued(good, "email", "正文", subject="主题"),
            queued(bad, "email", "正文", subject="主题"),
        ]
        channels.send(messages)
    assert [row["to"] for row in smtp.sent] == [["good@example.com"]]
    assert "Subject: =?utf-8?" in smtp.sent[0]["data"]
    states = [Message.objects.get(pk=m.pk) for m in messages]
    assert states[0].status == Message.Status.SENT and states[0].provider_id
    assert states[1].status == Message.Status.FAILED and states[1].error == "recipient_refused"


def test_wechat_template_messages(system, stores):
    with FakeWechat() as fake:
        fake.followers.add("openid-1")
        configure(system.merchant, wechat=fake.settings())
        follower = member(
            system, "13800000001", consent_wechat=True, custom={"wechat_openid": "openid-1"}
        )
        gone = member(
            system, "13800000002", consent_wechat=True, custom={"wechat_openid": "openid-2"}
        )
        messages = [queued(follower, "wechat", "微信通知"), queued(gone, "wechat", "微信通知")]
        channels.send(messages)
    assert fake.sent[0]["touser"] == "openid-1"
    assert fake.sent[0]["data"] == {"content": {"value": "微信通知"}}
    states = [Message.objects.get(pk=m.pk) for m in messages]
    assert states[0].status == Message.Status.SENT and states[0].provider_id
    assert states[1].error == "wechat_43004"


def test_unconfigured_channel_and_missing_consent_fail_without_a_call(system, stores):
    no_consent = member(system, "13800000001")
    with_consent = member(system, "13800000002", consent_sms=True)
    messages = [queued(no_consent, "sms"), queued(with_consent, "sms")]
    channels.send(messages)
    errors = [Message.objects.get(pk=m.pk).error for m in messages]
    assert errors == ["consent", "not_configured"]
