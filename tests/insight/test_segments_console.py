"""The segment console: who may open it, the builder's live preview (count, masked sample,
errors), save / edit / delete, the count a store manager sees and the audited xlsx export."""

from __future__ import annotations

import io
import json
from html import unescape as html_unescape

import openpyxl
import pytest
from django.test import Client

from patron.insight import segments
from patron.insight.models import Segment
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from tests.conftest import staff_actor
from tests.insight import segments_support as support

pytestmark = pytest.mark.django_db

WOMEN = {"all": [{"field": "gender", "op": "eq", "value": "F"}]}


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def members(merchant, stores):
    return support.build(merchant, stores)


def test_roles(hq, marketer, cashier, system, stores, members):
    manager = staff_actor(system, "mgr1", Role.STORE_MANAGER, stores["S1"])
    for actor in (hq, marketer, manager):
        assert logged_in(actor).get("/segments/").status_code == 200
        assert logged_in(actor).get("/segments/new/").status_code == 200
    assert logged_in(cashier).get("/segments/").status_code == 403
    assert logged_in(cashier).post("/segments/preview/", {"filter": "{}"}).status_code == 403


def test_preview_shows_count_and_masked_sample(hq, members):
    response = logged_in(hq).post("/segments/preview/", {"filter": json.dumps(WOMEN)})
    html = response.content.decode()
    assert 'data-count="2"' in html
    assert "138****8001" in html and "13800138001" not in html
    assert "金卡" in html  # D's tier by name


def test_preview_lists_every_error_with_its_path(hq, members):
    node = {
        "all": [
            {"field": "nope", "op": "eq", "value": 1},
            {"field": "age", "op": "between", "value": [40, 30]},
        ]
    }
    html = logged_in(hq).post("/segments/preview/", {"filter": json.dumps(node)}).content.decode()
    assert "Condition 1: Unknown field." in html
    assert "Condition 2: The range is backwards" in html
    assert "data-count" not in html
    assert (
        "not valid JSON"
        in logged_in(hq).post("/segments/preview/", {"filter": "{"}).content.decode()
    )


def test_builder_page_carries_the_catalogue_in_json(hq, members):
    html = logged_in(hq, "zh-hans").get("/segments/new/").content.decode()
    assert 'id="segment-catalogue"' in html
    assert "<script>" not in html  # data in json_script, code in a static file
    catalogue = json.loads(
        html.split('id="segment-catalogue" type="application/json">')[1].split("</script>")[0]
    )
    fields = {f["name"]: f for f in catalogue["fields"]}
    assert fields["spend_12m"]["kind"] == "yuan"
    assert ["gold", "金卡"] in fields["tier"]["choices"]
    assert ["old", "旧卡"] not in fields["tier"]["choices"]  # inactive
    assert fields["custom.size"]["choices"] == [["S", "S"], ["M", "M"], ["L", "L"]]
    assert fields["age"]["label"] == "年龄"


def test_save_edit_and_delete(hq, members):
    client = logged_in(hq)
    response = client.post("/segments/new/", {"name": "女会员", "filter": json.dumps(WOMEN)})
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.last_count == 2

    duplicate = client.post("/segments/new/", {"name": "女会员", "filter": '{"all": []}'})
    assert "already exists" in duplicate.content.decode()
    bad = client.post("/segments/new/", {"name": "坏", "filter": '{"all": [{"field": "x"}]}'})
    assert bad.status_code == 200 and "Condition 1: Unknown field." in bad.content.decode()
    assert Segment.objects.count() == 1

    men = {"all": [{"field": "gender", "op": "eq", "value": "M"}]}
    client.post(f"/segments/{segment.pk}/edit/", {"name": "男会员", "filter": json.dumps(men)})
    segment.refresh_from_db()
    assert (segment.name, segment.filter, segment.last_count) == ("男会员", men, 1)
    assert AuditEntry.objects.filter(object_type="segment", action="update").exists()

    assert client.post(f"/segments/{segment.pk}/delete/").status_code == 302
    assert not Segment.objects.exists()


def test_store_manager_counts_their_store(system, stores, members):
    segment, _count = segments.create_segment(system, "全部", {"all": []})
    manager = staff_actor(system, "mgr2", Role.STORE_MANAGER, stores["S2"])
    html = logged_in(manager).get(f"/segments/{segment.pk}/count/").content.decode()
    assert 'data-count="1"' in html  # only B is of S2
    segment.refresh_from_db()
    assert segment.last_count == 4  # the chain-wide count is not overwritten


def test_export_xlsx_is_audited(marketer, system, members):
    segment, _count = segments.create_segment(system, "女会员", WOMEN)
    response = logged_in(marketer).post(f"/segments/{segment.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sorted(row[2] for row in rows[1:]) == ["A", "D"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.user == marketer.user
    assert entry.changes["segment"] == [None, "女会员"] and entry.changes["count"] == [None, 2]


def test_another_merchants_segment_is_404(hq, members):
    from patron.tenancy.services import create_merchant

    other = create_merchant("other", "Other")
    segment = Segment.objects.create(merchant=other, name="x", filter={"all": []})
    assert logged_in(hq).get(f"/segments/{segment.pk}/edit/").status_code == 404
    assert logged_in(hq).post(f"/segments/{segment.pk}/export/").status_code == 404


def test_a_new_segment_starts_from_the_filter_another_page_links_with(hq, members):
    """The RFM page's cells link to the builder with their filter (`?filter=` JSON)."""
    from urllib.parse import quote

    cell = {"all": [{"field": "rfm", "op": "eq", "value": "555"}]}

    def starting_filter(query: str) -> dict:
        page = logged_in(hq).get("/segments/new/?filter=" + quote(query))
        assert page.status_code == 200
        textarea = page.content.decode().split('id="segment-filter" hidden>')[1]
        return json.loads(html_unescape(textarea.split("</textarea>")[0]))

    assert starting_filter(json.dumps(cell)) == cell
    for junk in ("{", "[1, 2]", '{"field": "rfm"}'):
        assert starting_filter(junk) == {"all": []}
