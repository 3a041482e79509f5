"""API.md §3 and the floor-plan contract fixes: the browsable docs work offline, and times in
answers carry the merchant's offset."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from patron.tenancy.actor import Actor
from patron.tenancy.services import create_api_key, create_merchant, create_store

pytestmark = pytest.mark.django_db
STAMP = re.compile(r'"(\d{4}-\d\d-\d\dT[^"]+)"')


def test_docs_load_every_asset_from_this_server(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', page.content.decode())
    assert refs, "the page loads its script and styles"
    assert all(not urlsplit(ref).netloc for ref in refs), refs  # no CDN, no other host
    for ref in refs:
        assert client.get(ref).status_code == 200, ref


def test_the_openapi_document_names_each_answer_once(client):
    """ninja keys answers by int and ours by text: JSON must not carry both (Swagger UI and
    YAML parsers refuse duplicated keys)."""

    def no_repeats(pairs):
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=no_repeats)


def stamps(response) -> list[str]:
    return STAMP.findall(response.content.decode())


def test_times_carry_the_offset_of_the_merchants_zone(api):
    created = api.post(
        "/api/v1/members", {"mobile": "13812345670"}, content_type="application/json"
    )
    assert created.status_code == 201
    listed = api.get("/api/v1/members?mobile=13812345670")
    found = stamps(created) + stamps(listed)
    assert found and all(stamp.endswith("+08:00") for stamp in found), found
    joined = dt.datetime.fromisoformat(created.json()["joined_at"])
    assert abs(joined - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)  # the same moment


def test_each_merchant_sees_its_own_offset(db):
    merchant = create_merchant("kashgar", "喀什店", timezone="Asia/Urumqi")
    create_store(Actor.system(merchant), "S1", "喀什店")
    client = Client(
        headers={"Authorization": f"Bearer {create_api_key(Actor.system(merchant))[1]}"}
    )
    created = client.post(
        "/api/v1/members", {"mobile": "13812345671"}, content_type="application/json"
    )
    assert created.status_code == 201
    assert created.json()["joined_at"].endswith("+06:00")


def test_a_moment_before_standard_time_is_written_in_utc():
    """Shanghai kept local mean time (+08:05:43) before 1901: an RFC 3339 offset has no
    seconds, so such a moment (the API now refuses them as input) is written in UTC."""
    from zoneinfo import ZoneInfo

    from patron.api import MerchantJSONEncoder

    encoder = MerchantJSONEncoder(zone=ZoneInfo("Asia/Shanghai"))
    ancient = dt.datetime(892, 7, 28, 6, 56, 21, tzinfo=dt.UTC)
    assert encoder.encode(ancient) == '"0892-07-28T06:56:21+00:00"'
    recent = dt.datetime(2027, 3, 2, 4, 0, tzinfo=dt.UTC)
    assert encoder.encode(recent) == '"2027-03-02T12:00:00+08:00"'
