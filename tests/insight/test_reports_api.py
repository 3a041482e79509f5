"""`GET /api/v1/insight/dashboard` (API.md §8): the F-47 figures as JSON, and its 4xx."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.insight.reports_history import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
URL = "/api/v1/insight/dashboard"


def test_the_dashboard_as_json(api, system, stores):
    history = build(system, stores)
    answer = api.get(URL, {"from": history.d1.isoformat(), "to": history.d3.isoformat()})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["from"], body["to"], body["store"]) == (
        history.d1.isoformat(),
        history.d3.isoformat(),
        None,
    )
    assert body["sales"]["total"] == 47500
    assert body["sales"]["member_share_amount"] == 0.8632
    assert body["members"]["new"] == 2
    assert body["members"]["lifecycle"]["dormant"] == 1
    assert body["coupons"]["cost"] == 2000
    assert body["liabilities"]["as_of"].endswith("+08:00")
    assert [row["store"] for row in body["stores"]] == ["S1", "S2"]
    assert body["series"]["periods"][0] == history.d1.isoformat()
    assert body["series"]["sales"] == [23000, 22000, 2500]
    assert [row["quadrant"] for row in body["diagnosis"]["stores"]] == [
        "quality_or_service",
        "keep",
    ]


def test_one_store(api, system, stores):
    history = build(system, stores)
    answer = api.get(
        URL, {"from": history.d1.isoformat(), "to": history.d3.isoformat(), "store": "S2"}
    )
    assert answer.status_code == 200
    assert answer.json()["store"] == "S2"
    assert answer.json()["sales"]["total"] == 19500


def test_the_last_30_days_by_default(api, system, stores):
    answer = api.get(URL)
    assert answer.status_code == 200
    assert len(answer.json()["series"]["periods"]) == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2023-12-31"}, "to"),
        ({"store": "S9"}, "store"),
        ({"from": "2026-12-01", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from,to"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api, stores, query, field):
    answer = api.get(URL, query)
    assert answer.status_code == 422, answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in answer.json()["errors"]] == field.split(",")


def test_three_years_is_the_longest_range(api, stores):
    first = dt.date(2023, 1, 1)
    answer = api.get(URL, {"from": first.isoformat(), "to": "2025-12-31"})
    assert answer.status_code == 200
    assert answer.json()["series"]["granularity"] == "month"
    assert len(answer.json()["series"]["periods"]) == 36


def test_another_merchants_key_sees_nothing_of_ours(other_api, system, stores):
    build(system, stores)
    answer = other_api.get(URL)
    assert answer.status_code == 200
    assert answer.json()["sales"]["total"] == 0
    assert other_api.get(URL, {"store": "S2"}).status_code == 422


def test_without_a_key(client, stores):
    assert client.get(URL).status_code == 401


def test_the_shape_is_in_the_openapi_document(api):
    schema = api.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/insight/dashboard"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to", "store"}
    assert "DashboardOut" in schema["components"]["schemas"]
