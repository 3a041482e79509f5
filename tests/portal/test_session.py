"""The member pages' session: anonymous visitors go to /m/login, merchants never mix."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant, create_store
from tests.portal.conftest import log_in_as

pytestmark = pytest.mark.django_db


def test_anonymous_card_page_redirects_to_login(merchant):
    response = Client().get("/m/")
    assert response.status_code == 302
    assert response["Location"].startswith("/m/login")


def test_a_member_of_merchant_a_is_not_logged_in_at_merchant_b(portal_member):
    other = create_merchant("beta", "Beta 连锁")
    create_store(Actor.system(other), "S1", "别家店")
    register_member(Actor.system(other), {"mobile": "13900000000", "name": "别人", "store": "S1"})
    phone = log_in_as(Client(), portal_member)
    response = phone.get("/m/?merchant=beta")
    assert response.status_code == 302
    assert "merchant=beta" in response["Location"]


def test_unknown_merchant_gets_a_page_not_a_crash(portal_member):
    create_merchant("beta", "Beta 连锁")  # two merchants: the slug must name one
    response = Client().get("/m/login?merchant=nobody")
    assert response.status_code == 404
