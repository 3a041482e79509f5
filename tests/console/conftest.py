"""Fixtures for the console pages: logged-in clients per role and a member factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from patron.members.models import Member
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_staff

# Mobiles that phonenumbers accepts as assigned mainland mobiles.
MOBILES = [f"1380013{n:04d}" for n in range(8000, 8100)]


def logged_in(actor: Actor, language: str = "en") -> Client:
    """A client logged in as the actor's user, asking for `language` pages."""
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def manager(system, stores) -> Actor:
    staff = create_staff(system, "manager1", "password123", Role.STORE_MANAGER, stores["S1"])
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


@pytest.fixture
def hq_client(hq) -> Client:
    return logged_in(hq)


@pytest.fixture
def cashier_client(cashier) -> Client:
    return logged_in(cashier)


@pytest.fixture
def marketer_client(marketer) -> Client:
    return logged_in(marketer)


@pytest.fixture
def manager_client(manager) -> Client:
    return logged_in(manager)


@pytest.fixture
def make_member(hq) -> Callable[..., Member]:
    """Register a member through the service, as HQ unless another actor is given."""
    mobiles = iter(MOBILES)

    def make(actor: Actor | None = None, **data: Any) -> Member:
        data.setdefault("mobile", next(mobiles))
        return register_member(actor or hq, data)

    return make
