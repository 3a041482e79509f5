"""Helpers of the join and log-in tests: the log SMS backend's codes, read from the log."""

from __future__ import annotations

import logging
import re

import pytest

SMS_LOGGER = "patron.portal.sms"


@pytest.fixture(name="sms_log")
def sms_log_fixture(settings, caplog):
    """The log backend on; `sms_log()` returns the codes logged for a mobile, oldest first."""
    settings.PATRON_SMS_BACKEND = "log"
    caplog.set_level(logging.INFO, logger=SMS_LOGGER)

    def codes(mobile: str) -> list[str]:
        lines = [r.getMessage() for r in caplog.records if r.name == SMS_LOGGER]
        return [
            found
            for line in lines
            if mobile in line
            for found in re.findall(r"(?<!\d)(\d{6})(?!\d)", line.replace(mobile, ""))
        ]

    return codes
