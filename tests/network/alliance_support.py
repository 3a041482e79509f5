"""Two merchants for alliance tests: acme (the `merchant` fixture) and a tea house, each with an
API client, and members with points."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from patron.ledger import services as ledger
from patron.ledger.models import Asset
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_api_key, create_merchant, create_store

RATE = {"points": 100, "partner_points": 80}


def client_for(merchant: Merchant) -> Client:
    key = create_api_key(Actor.system(merchant), "alliance tests")[1]
    return Client(headers={"Authorization": f"Bearer {key}"})


def post(client: Client, path: str, body: dict | None = None, **headers: str):
    return client.post(
        f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", headers=headers
    )


def get(client: Client, path: str, **params: Any):
    return client.get(f"/api/v1{path}", params)


def member_with_points(merchant: Merchant, mobile: str, points: int, name: str = "") -> Member:
    actor = Actor.system(merchant)
    member = register_member(actor, {"mobile": mobile, "name": name or "王小明"})
    if points:
        ledger.earn_points(actor, member, points, key=f"fund:{mobile}", pending_days=0)
    return member


def points_of(member: Member) -> int:
    return ledger.quick_balances(member)[Asset.POINTS]


def reconciled(*merchants: Merchant) -> bool:
    return all(reconcile(merchant) == [] for merchant in merchants)


@pytest.fixture
def tea(db) -> Merchant:
    tea = create_merchant("tea", "茶言茶馆")
    create_store(Actor.system(tea), "T1", "湖滨茶馆")
    return tea


@pytest.fixture
def acme_api(merchant, stores) -> Client:
    return client_for(merchant)


@pytest.fixture
def tea_api(tea) -> Client:
    return client_for(tea)


@pytest.fixture
def alliance(acme_api, tea_api) -> int:
    """An active alliance: 100 of acme's points = 80 of the tea house's."""
    created = post(acme_api, "/alliances", {"partner": "tea", "rate": RATE})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert post(tea_api, f"/alliances/{pk}/accept").status_code == 200
    return pk
