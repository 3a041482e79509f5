"""Fixtures of the member pages: a member of the acme merchant and a phone logged in as them."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.members.services import register_member
from patron.portal.session import MERCHANT_KEY, SESSION_KEY

MOBILE = "13512345678"


@pytest.fixture
def portal_member(system, stores):
    return register_member(
        system, {"mobile": MOBILE, "name": "林小雨", "store": "S1", "consent_sms": True}
    )


def log_in_as(client: Client, member) -> Client:
    """Log `client` in as `member` the way /m/login/code does (the session's keys)."""
    session = client.session
    members = dict(session.get(SESSION_KEY) or {})
    members[str(member.merchant_id)] = member.pk
    session[SESSION_KEY] = members
    session[MERCHANT_KEY] = member.merchant_id
    session.save()
    return client


@pytest.fixture
def phone(portal_member) -> Client:
    """A phone's browser logged in as portal_member (a WeChat user agent, as in a store)."""
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) MicroMessenger/8.0")
    return log_in_as(client, portal_member)
