"""Shared fixtures. Every test runs on SQLite; suites marked `postgres` run again on
PostgreSQL when PATRON_TEST_POSTGRES is set (see Makefile)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from huey.contrib.djhuey import HUEY

from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_api_key, create_merchant, create_staff, create_store

# Fixtures that run the real `patron` console script (tests/cli, tests/program).
pytest_plugins = ["tests.cli_support", "tests.browser_support"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def jobs_now() -> Iterator[None]:
    """Background jobs (a confirmed import, a campaign's sends) run when queued, in this
    process, as a worker would run them."""
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = False


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as a fresh process does: SQLite reuses the ids a
    rolled-back test used, and the home's settled sums (core.settled) are keyed by them."""
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English leaves English active in the thread (LocaleMiddleware activates,
    nothing deactivates): every test starts in the default language, as a fresh process does."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def merchant(db):
    return create_merchant("acme", "Acme 连锁")


@pytest.fixture
def system(merchant) -> Actor:
    return Actor.system(merchant)


@pytest.fixture
def stores(system):
    return {
        code: create_store(system, code, name)
        for code, name in (("S1", "西湖店"), ("S2", "滨江店"))
    }


def staff_actor(system: Actor, username: str, role: str, store=None) -> Actor:
    staff = create_staff(system, username, "password123", role, store)
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


@pytest.fixture
def hq(system, stores) -> Actor:
    return staff_actor(system, "hq", Role.HQ_ADMIN)


@pytest.fixture
def cashier(system, stores) -> Actor:
    return staff_actor(system, "cashier1", Role.CASHIER, stores["S1"])


@pytest.fixture
def marketer(system, stores) -> Actor:
    return staff_actor(system, "marketer", Role.MARKETER)


@pytest.fixture
def api_key(system, stores) -> str:
    return create_api_key(system, "tests")[1]


@pytest.fixture
def api(api_key) -> Client:
    """A test client that sends the merchant's API key."""
    return Client(headers={"Authorization": f"Bearer {api_key}"})


@pytest.fixture
def other_api(db) -> Client:
    other = create_merchant("other", "Other Co")
    create_store(Actor.system(other), "S1", "别家店")
    return Client(headers={"Authorization": f"Bearer {create_api_key(Actor.system(other))[1]}"})
