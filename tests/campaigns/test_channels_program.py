"""The `channels` program section: applied, exported with secrets hidden, round trip."""

from __future__ import annotations

import pytest
from django.db import connection

from patron.campaigns.channel_program import HIDDEN, stored
from patron.campaigns.models import ChannelSettings
from patron.program.services import apply_program, export_program

SECTION = {
    "sms": {
        "provider": "aliyun",
        "sign_name": "茶馆",
        "access_key_id": "LTAI",
        "access_key_secret": "s3cret",
        "template_code": "SMS_1",
    },
    "email": {
        "smtp_host": "smtp.example.com",
        "smtp_port": 465,
        "from": "vip@example.com",
        "password": "mail-pass",
        "tls": True,
    },
}


def test_apply_export_round_trip_keeps_secrets_out_of_files(hq):
    apply_program(hq, {"channels": SECTION})
    assert stored(hq.merchant)["sms"]["access_key_secret"] == "s3cret"
    row = ChannelSettings.objects.get(merchant=hq.merchant)
    assert "s3cret" not in str(row.config)
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT secrets FROM campaigns_channelsettings")
        assert "s3cret" not in cursor.fetchone()[0]
    exported = export_program(hq)["channels"]
    assert exported["sms"]["access_key_secret"] == HIDDEN
    assert (
        exported["email"]["password"] == HIDDEN and exported["email"]["from"] == "vip@example.com"
    )
    apply_program(hq, {"channels": exported})  # the exported file applies unchanged
    assert stored(hq.merchant)["email"]["password"] == "mail-pass"


def test_bad_provider_is_refused(hq):
    from patron.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        apply_program(hq, {"channels": {"sms": {"provider": "carrier-pigeon"}}})
    assert "channels.sms.provider" in str(refused.value)
