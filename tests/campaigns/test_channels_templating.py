"""Templates: variables checked when saved, rendered per member and channel (F-37)."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.campaigns import templating
from patron.campaigns.models import MessageTemplate
from patron.core.errors import ValidationFailed
from tests.campaigns.channels_support import member


def test_check_names_unknown_variables_and_bad_braces():
    assert templating.check("{name}，您有{points}积分") == []
    errors = templating.check("{name}，{foo}")
    assert len(errors) == 1 and "{foo}" in errors[0] and "未知变量" in errors[0]
    assert "括号" in templating.check("{name")[0]
    assert templating.check("{{literal}}") == []


def test_render_in_chinese_with_money_dates_and_sms_opt_out(system, stores):
    someone = member(system)
    template = MessageTemplate(
        merchant=system.merchant,
        body_zh="{name}，您有{points}积分将于{expires_at}到期，余额{balance}",
        body_en="{name}, {points} points expire on {expires_at}, balance {balance}",
    )
    context = {
        "points": 120,
        "expires_at": dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC),  # Jan 1 in Shanghai
        "balance": 1234,
    }
    language, subject, body = templating.render(template, someone, context, channel="sms")
    assert language == "zh-hans" and subject == ""
    assert body == "张三，您有120积分将于2027年1月1日到期，余额¥12.34回T退订"
    _lang, _subject, again = templating.render(template, someone, context, channel="inbox")
    assert "回T退订" not in again


def test_render_in_english_for_an_english_member(system, stores):
    someone = member(system, custom={"language": "en"})
    template = templating.resolve(system.merchant, "points_expiring")
    language, subject, body = templating.render(
        template, someone, {"points": 50, "expires_at": "2027-03-05"}, channel="sms"
    )
    assert language == "en"
    assert subject == "Your points expire soon"
    assert (
        body == "张三, 50 of your points expire on 5 Mar 2027. Use them in time. Reply T to opt out"
    )


def test_opt_out_line_not_doubled(system, stores):
    someone = member(system)
    template = templating.resolve(system.merchant, {"zh": "{name}您好，回T退订"})
    _l, _s, body = templating.render(template, someone, {}, channel="sms")
    assert body.count("回T退订") == 1


def test_resolve_prefers_the_merchants_template_over_the_builtin(system, stores):
    assert templating.resolve(system.merchant, "birthday").pk is None
    MessageTemplate.objects.create(
        merchant=system.merchant, code="birthday", name="生日", body_zh="{name}生日快乐"
    )
    assert templating.resolve(system.merchant, "birthday").body_zh == "{name}生日快乐"


def test_resolve_refuses_unknown_codes_and_bad_inline_texts(system):
    with pytest.raises(ValidationFailed) as unknown:
        templating.resolve(system.merchant, "no_such_code")
    assert "no_such_code" in str(unknown.value)
    with pytest.raises(ValidationFailed) as bad:
        templating.resolve(system.merchant, {"zh": "{name} {oops}"})
    assert "{oops}" in str(bad.value)


def test_builtin_templates_use_only_known_variables():
    from patron.campaigns.builtin_templates import BUILTIN_TEMPLATES

    for code, data in BUILTIN_TEMPLATES.items():
        for field in ("subject_zh", "subject_en", "body_zh", "body_en"):
            assert templating.check(data[field]) == [], (code, field)


def test_email_body_ends_with_an_unsubscribe_link(system, stores):
    someone = member(system, email="z@example.com")
    template = templating.resolve(system.merchant, "information")
    _l, subject, body = templating.render(template, someone, {}, channel="email")
    assert subject == "Acme 连锁会员通知"
    assert "/campaigns/hooks/unsubscribe/" in body.splitlines()[-1]


def test_message_fields_carry_provider_params(system, stores):
    someone = member(system)
    template = MessageTemplate(
        merchant=system.merchant, body_zh="{name}您好，积分{points}", provider_code="SMS_100"
    )
    fields = templating.message_fields(template, someone, {"points": 9}, channel="sms")
    assert fields["provider_template"] == "SMS_100"
    assert fields["params"] == {"name": "张三", "points": "9"}
