"""One-time codes (issue 18 §2): hashed, 5 minutes, 5 tries, once, resend after 60 s, limits per
mobile and per address, refusals that write nothing; the log and channel SMS backends."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.core.errors import ValidationFailed
from patron.portal import otp
from patron.portal.models import OneTimeCode
from tests.campaigns.channels_support import configure
from tests.campaigns.fakes import FakeAliyun
from tests.portal.auth_support import sms_log_fixture  # noqa: F401 (the sms_log fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MOBILE = "13512345678"
LOGIN, JOIN = OneTimeCode.Purpose.LOGIN, OneTimeCode.Purpose.JOIN
T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ask(merchant, mobile=MOBILE, *, at=T0, ip="10.0.0.1", purpose=LOGIN):
    return otp.request_code(merchant, mobile, purpose, ip=ip, now=at)


def refusal(call, *args, **kwargs) -> otp.CodeRefused:
    with pytest.raises(otp.CodeRefused) as caught:
        call(*args, **kwargs)
    return caught.value


class TestCodes:
    def test_a_code_is_six_digits_kept_only_as_a_salted_hash(self, merchant, sms_log):
        ask(merchant)
        ask(merchant, "13900139000")
        (code,) = sms_log(MOBILE)
        assert len(code) == 6 and code.isdigit()
        first, second = OneTimeCode.objects.order_by("pk")
        assert code not in first.code_hash and len(first.code_hash) <= 128
        assert first.code_hash.split("$")[0] != second.code_hash.split("$")[0]
        assert first.expires_at - first.created_at == dt.timedelta(minutes=5)

    def test_the_right_code_works_once(self, merchant, sms_log):
        ask(merchant)
        (code,) = sms_log(MOBILE)
        assert otp.verify_code(merchant, MOBILE, code, LOGIN, now=later(10)) == MOBILE
        assert refusal(otp.verify_code, merchant, MOBILE, code, LOGIN, now=later(20)).code == (
            "no_code"
        )

    def test_a_code_expires_after_five_minutes(self, merchant, sms_log):
        ask(merchant)
        (code,) = sms_log(MOBILE)
        refused = refusal(otp.verify_code, merchant, MOBILE, code, LOGIN, now=later(5 * 60 + 1))
        assert refused.code == "code_expired" and "过期" in refused.detail
        assert OneTimeCode.objects.get().used_at is None

    def test_five_wrong_tries_kill_the_code(self, merchant, sms_log):
        ask(merchant)
        (code,) = sms_log(MOBILE)
        wrong = "000000" if code != "000000" else "111111"
        lefts = [
            refusal(otp.verify_code, merchant, MOBILE, wrong, LOGIN, now=later(5)).tries_left
            for _ in range(5)
        ]
        assert lefts == [4, 3, 2, 1, 0]
        assert OneTimeCode.objects.get().tries == 5
        dead = refusal(otp.verify_code, merchant, MOBILE, code, LOGIN, now=later(6))
        assert dead.code == "code_dead"

    def test_wrong_code_message_says_the_tries_left(self, merchant, sms_log):
        ask(merchant)
        (code,) = sms_log(MOBILE)
        wrong = "000000" if code != "000000" else "111111"
        assert "4" in refusal(otp.verify_code, merchant, MOBILE, wrong, LOGIN, now=later(1)).detail

    def test_resend_before_sixty_seconds_is_refused_and_writes_nothing(self, merchant, sms_log):
        ask(merchant)
        refused = refusal(ask, merchant, at=later(45))
        assert (refused.code, refused.wait) == ("resend_too_soon", 15)
        assert "15" in refused.detail
        assert OneTimeCode.objects.count() == 1 and len(sms_log(MOBILE)) == 1

    def test_a_new_code_kills_the_older_one(self, merchant, sms_log):
        ask(merchant)
        ask(merchant, at=later(61))
        old, new = sms_log(MOBILE)
        if old != new:
            assert refusal(otp.verify_code, merchant, MOBILE, old, LOGIN, now=later(62))
        assert otp.verify_code(merchant, MOBILE, new, LOGIN, now=later(63)) == MOBILE
        assert OneTimeCode.objects.filter(used_at__isnull=True).get().expires_at == later(61)

    def test_login_and_join_codes_do_not_mix(self, merchant, sms_log):
        ask(merchant, purpose=JOIN)
        (code,) = sms_log(MOBILE)
        assert refusal(otp.verify_code, merchant, MOBILE, code, LOGIN, now=later(1)).code == (
            "no_code"
        )


class TestLimits:
    def test_per_mobile_per_hour(self, merchant, sms_log):
        for n in range(otp.PER_MOBILE_HOUR):
            ask(merchant, at=later(61 * n))
        refused = refusal(ask, merchant, at=later(61 * otp.PER_MOBILE_HOUR))
        assert refused.code == "too_many_codes"
        assert OneTimeCode.objects.count() == otp.PER_MOBILE_HOUR
        ask(merchant, at=later(3600 + 1))  # the hour has passed

    def test_per_mobile_per_day(self, merchant, sms_log):
        spacing = 3600 // otp.PER_MOBILE_HOUR + 1  # never more than the hourly limit
        for n in range(otp.PER_MOBILE_DAY):
            ask(merchant, at=later(spacing * n))
        assert refusal(ask, merchant, at=later(12 * 3600)).code == "too_many_codes"
        ask(merchant, at=later(24 * 3600 + 1))

    def test_per_address_per_hour_across_mobiles(self, merchant, sms_log):
        mobiles = [f"1390013{n:04d}" for n in range(otp.PER_IP_HOUR + 1)]
        for mobile in mobiles[:-1]:
            ask(merchant, mobile, at=later(1))
        refused = refusal(ask, merchant, mobiles[-1], at=later(2))
        assert refused.code == "too_many_codes_ip"
        ask(merchant, mobiles[-1], at=later(2), ip="10.0.0.2")  # another address is not held

    def test_wrong_answers_per_address(self, merchant, sms_log):
        mobiles = [f"1390013{n:04d}" for n in range(otp.FAILED_PER_IP_HOUR // otp.MAX_TRIES)]
        for mobile in mobiles:
            ask(merchant, mobile, at=later(1))
            (code,) = sms_log(mobile)
            wrong = "000000" if code != "000000" else "111111"
            for _ in range(otp.MAX_TRIES):
                refusal(
                    otp.verify_code, merchant, mobile, wrong, LOGIN, ip="10.0.0.1", now=later(2)
                )
        ask(merchant, at=later(3), ip="10.0.0.9")
        (code,) = sms_log(MOBILE)
        refused = refusal(
            otp.verify_code, merchant, MOBILE, code, LOGIN, ip="10.0.0.1", now=later(4)
        )
        assert refused.code == "too_many_failures"


class TestRefusals:
    @pytest.mark.parametrize("mobile", ["+1 415 555 0123", "4155550123", "1351234567", "abc"])
    def test_not_a_mainland_mobile(self, merchant, sms_log, mobile):
        with pytest.raises(ValidationFailed) as caught:
            ask(merchant, mobile)
        assert caught.value.errors[0].field == "mobile"
        assert not OneTimeCode.objects.exists()

    def test_no_sms_channel_no_code(self, merchant, settings):
        settings.PATRON_SMS_BACKEND = "channel"
        refused = refusal(ask, merchant)
        assert refused.code == "sms_unavailable" and "门店" in refused.detail
        assert not OneTimeCode.objects.exists()

    def test_codes_of_one_merchant_do_not_serve_another(self, merchant, sms_log):
        from patron.tenancy.services import create_merchant

        other = create_merchant("other", "Other Co")
        ask(merchant)
        (code,) = sms_log(MOBILE)
        assert refusal(otp.verify_code, other, MOBILE, code, LOGIN, now=later(1)).code == "no_code"


@pytest.mark.django_db(transaction=True)
class TestChannelBackend:
    def test_sent_through_the_merchants_sms_channel_as_text(self, merchant, settings):
        settings.PATRON_SMS_BACKEND = "channel"
        with FakeAliyun() as fake:
            configure(merchant, sms=fake.settings())
            otp.request_code(merchant, MOBILE, LOGIN)
        (sent,) = fake.sent
        assert sent["mobile"] == MOBILE and sent["template"] == "SMS_CONTENT"
        code = "".join(ch for ch in sent["params"]["content"] if ch.isdigit())[:6]
        assert otp.verify_code(merchant, MOBILE, code, LOGIN) == MOBILE

    def test_sent_with_the_login_template(self, merchant, settings):
        settings.PATRON_SMS_BACKEND = "channel"
        with FakeAliyun() as fake:
            configure(merchant, sms=fake.settings(login_template="SMS_100"))
            otp.request_code(merchant, MOBILE, LOGIN)
        (sent,) = fake.sent
        assert sent["template"] == "SMS_100" and set(sent["params"]) == {"code"}
        assert otp.verify_code(merchant, MOBILE, sent["params"]["code"], LOGIN) == MOBILE

    def test_a_provider_refusal_keeps_nothing(self, merchant, settings):
        settings.PATRON_SMS_BACKEND = "channel"
        with FakeAliyun() as fake:
            fake.limited.add(MOBILE)
            configure(merchant, sms=fake.settings())
            refused = refusal(otp.request_code, merchant, MOBILE, LOGIN)
        assert refused.code == "sms_failed"
        assert not OneTimeCode.objects.exists()
