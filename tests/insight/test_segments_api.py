"""Segments through the API (API.md §8), the service's store scoping, the audited xlsx export
and `patron export members --segment`."""

from __future__ import annotations

import json

import openpyxl
import pytest

from patron.insight import segments
from patron.insight.models import Segment
from patron.members import exporting
from patron.tenancy.models import AuditEntry, Role
from tests.cli_support import cli_in_process
from tests.conftest import staff_actor
from tests.insight import segments_support as support

pytestmark = pytest.mark.postgres

WOMEN = {"all": [{"field": "gender", "op": "eq", "value": "F"}]}


@pytest.fixture
def members(merchant, stores):
    return support.build(merchant, stores)


def post(client, path: str, body) -> tuple[int, dict]:
    response = client.post(path, json.dumps(body), content_type="application/json")
    return response.status_code, response.json() if response.content else {}


def test_preview_counts_and_samples_masked(api, members):
    status, body = post(api, "/api/v1/segments/preview", {"filter": WOMEN})
    assert status == 200
    assert body["count"] == 2
    assert body["sample"] == [
        {  # newest member first
            "id": members["D"].pk,
            "card_no": "C0004",
            "name": "D",
            "mobile": "138****8004",
            "tier": "gold",
            "lifecycle": "inert",
        },
        {
            "id": members["A"].pk,
            "card_no": "C0001",
            "name": "A",
            "mobile": "138****8001",
            "tier": "normal",
            "lifecycle": "active",
        },
    ]


def test_preview_of_a_member_without_insight_has_no_lifecycle(api, members):
    body = post(
        api,
        "/api/v1/segments/preview",
        {"filter": {"all": [{"field": "channel", "op": "eq", "value": "import"}]}},
    )[1]
    assert body["count"] == 1
    assert body["sample"][0]["lifecycle"] is None
    assert body["sample"][0]["tier"] == "normal"


def test_create_then_preview_by_id_and_list(api, members):
    status, body = post(api, "/api/v1/segments", {"name": " 女会员 ", "filter": WOMEN})
    assert status == 201
    segment = Segment.objects.get()
    assert body == {"id": segment.pk, "name": "女会员", "count": 2}
    assert segment.filter == WOMEN and segment.last_count == 2

    preview = api.get(f"/api/v1/segments/{segment.pk}/preview")
    assert preview.status_code == 200
    assert preview.json()["count"] == 2
    assert [m["name"] for m in preview.json()["sample"]] == ["D", "A"]

    listed = api.get("/api/v1/segments").json()
    assert [(s["id"], s["name"], s["count"]) for s in listed] == [(segment.pk, "女会员", 2)]
    entry = AuditEntry.objects.get(object_type="segment", action=AuditEntry.Action.CREATE)
    assert entry.changes["name"] == [None, "女会员"]


def test_duplicate_name_is_a_conflict(api, members):
    post(api, "/api/v1/segments", {"name": "女会员", "filter": WOMEN})
    status, body = post(api, "/api/v1/segments", {"name": "女会员", "filter": {"all": []}})
    assert status == 409
    assert body["code"] == "duplicate_segment"
    assert body["errors"][0]["field"] == "name"
    assert Segment.objects.count() == 1


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ({"field": "shoe", "op": "eq", "value": 1}, "filter.all[0].field"),
        ({"field": "gender", "op": "like", "value": "F"}, "filter.all[0].op"),
        ({"field": "age", "op": "eq", "value": "30"}, "filter.all[0].value"),
        ({"field": "age", "op": "between", "value": [40, 30]}, "filter.all[0].value"),
        ({"field": "tier", "op": "eq", "value": "platinum"}, "filter.all[0].value"),
        ({"field": "store", "op": "eq", "value": "S9"}, "filter.all[0].value"),
    ],
)
def test_bad_filter_is_422_with_the_path_and_writes_nothing(api, members, condition, path):
    node = {"all": [condition]}
    for url, body in (
        ("/api/v1/segments/preview", {"filter": node}),
        ("/api/v1/segments", {"name": "坏的", "filter": node}),
    ):
        status, problem = post(api, url, body)
        assert status == 422
        assert problem["code"] == "validation_error"
        assert [e["field"] for e in problem["errors"]] == [path]
    assert not Segment.objects.exists()
    assert not AuditEntry.objects.filter(object_type="segment").exists()


def test_missing_name_and_bad_filter_are_reported_together(api, members):
    status, problem = post(
        api, "/api/v1/segments", {"name": " ", "filter": {"all": [{"field": "x"}]}}
    )
    assert status == 422
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"name", "filter.all[0].field", "filter.all[0].op", "filter.all[0].value"}
    assert not Segment.objects.exists()


def test_another_merchants_segment_is_not_found(api, other_api, members):
    segment_id = post(api, "/api/v1/segments", {"name": "女会员", "filter": WOMEN})[1]["id"]
    assert other_api.get(f"/api/v1/segments/{segment_id}/preview").status_code == 404
    assert other_api.delete(f"/api/v1/segments/{segment_id}").status_code == 404
    assert api.get("/api/v1/segments/abc/preview").status_code in (404, 422)


def test_delete_is_audited(api, members):
    segment_id = post(api, "/api/v1/segments", {"name": "女会员", "filter": WOMEN})[1]["id"]
    assert api.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert not Segment.objects.exists()
    assert AuditEntry.objects.filter(object_type="segment", action="delete").exists()


def test_store_manager_counts_only_their_store(system, stores, members):
    manager = staff_actor(system, "mgr1", Role.STORE_MANAGER, stores["S1"])
    assert segments.preview(manager, WOMEN).count == 2  # A and D are both of S1
    everyone = {"all": []}
    assert segments.preview(manager, everyone).count == 2
    assert segments.preview(system, everyone).count == 4
    segment, count = segments.create_segment(manager, "全部", everyone)
    assert count == 2
    assert segment.last_count is None  # a store's count is not the segment's


def test_segment_export_to_xlsx_is_audited(system, stores, members, tmp_path):
    segments.create_segment(system, "女会员", WOMEN)
    manager = staff_actor(system, "mgr2", Role.STORE_MANAGER, stores["S2"])
    marketer = staff_actor(system, "mkt", Role.MARKETER)
    path = tmp_path / "women.xlsx"
    queryset, name = exporting.segment_members(marketer, "女会员")
    result = exporting.export_members(marketer, path, fmt="xlsx", members=queryset, segment=name)
    assert result.count == 2
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert sorted(row[2] for row in rows[1:]) == ["A", "D"]
    assert sorted(row[1] for row in rows[1:]) == ["138****8001", "138****8004"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.user == marketer.user
    assert entry.changes["segment"] == [None, "女会员"]
    assert entry.changes["count"] == [None, 2]

    queryset, name = exporting.segment_members(manager, "女会员")  # S2 has no women
    assert (
        exporting.export_members(
            manager, tmp_path / "s2.xlsx", fmt="xlsx", members=queryset, segment=name
        ).count
        == 0
    )


def test_cli_exports_a_segment(system, members, tmp_path, capsys):
    segments.create_segment(
        system, "沉睡", {"all": [{"field": "lifecycle", "op": "eq", "value": "dormant"}]}
    )
    out = tmp_path / "dormant.xlsx"
    code = cli_in_process(
        "export", "members", "--merchant", "acme", "--segment", "沉睡", "-o", str(out)
    )
    assert code == 0
    assert "Exported 1 members of segment '沉睡'" in capsys.readouterr().out
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["B"]
    assert AuditEntry.objects.get(action="export").changes["segment"] == [None, "沉睡"]


def test_cli_unknown_segment_is_a_readable_error(system, members, tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    code = cli_in_process(
        "export", "members", "--merchant", "acme", "--segment", "没有", "-o", str(out)
    )
    assert code != 0
    assert "没有" in capsys.readouterr().err
    assert not out.exists()
    assert not AuditEntry.objects.filter(action="export").exists()
