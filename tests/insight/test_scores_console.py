"""The RFM page (/insight/rfm/) and the member page's card: heat map data, cells and stages,
store scoping (a store manager sees their store's members), links to the segment builder,
the workbook (audited)."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from django.test import Client

from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_staff
from tests.insight.scores_support import local, member, refresh, sale

pytestmark = pytest.mark.django_db

AS_OF = local(2026, 6, 15, 0, 0)


def client_of(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def shop(system, stores):
    """Two members in S1 (one of them never bought), one in S2; scored."""
    ann = member(system, "13500000001", joined=local(2025, 1, 1), store="S1")
    sale(ann, 50000, local(2026, 6, 10))
    sale(ann, 30000, local(2026, 5, 10))
    member(system, "13500000002", joined=local(2026, 6, 1), store="S1")
    bob = member(system, "13500000003", joined=local(2025, 1, 1), store="S2")
    sale(bob, 1000, local(2025, 9, 1))
    refresh(system.merchant, AS_OF)
    return {"ann": ann, "bob": bob}


def spec_of(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="rfm-spec" type="application/json">') + 46
    return json.loads(html[start : html.index("</script>", start)])


def test_hq_sees_every_store_and_can_pick_one(hq, shop):
    client = client_of(hq.staff.user)
    page = client.get("/insight/rfm/")
    assert page.status_code == 200
    cells = spec_of(page)["heatmap"]["cells"]
    assert sum(cell["count"] for cell in cells) == 2  # two buyers
    assert len(cells) == 25
    assert 'data-cell="555"' in page.content.decode()  # ann: recent, two visits, most spend
    s2 = client.get("/insight/rfm/", {"store": "S2"})
    counts = [cell["count"] for cell in spec_of(s2)["heatmap"]["cells"]]
    assert sum(counts) == 1
    bars = spec_of(page)["stages"]
    stages = dict(zip(bars["labels"], bars["counts"], strict=True))
    # ann 5 days and the new member 14 days against 30; bob 287 days.
    assert stages == {"Excited": 2, "Active": 0, "Inert": 0, "Dormant": 1}


def test_a_store_manager_sees_only_their_stores_members(system, stores, shop):
    staff = create_staff(system, "manager2", "password123", Role.STORE_MANAGER, stores["S2"])
    page = client_of(staff.user).get("/insight/rfm/", {"store": "S1"})  # asks for another
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="rfm-filter"' not in html
    assert sum(cell["count"] for cell in spec_of(page)["heatmap"]["cells"]) == 1
    # Scores are the merchant's (n = 2): bob is below ann on all three, and ann is not shown.
    assert 'data-cell="333"' in html and 'data-cell="555"' not in html


def test_a_cashier_may_not_open_it(cashier, shop):
    assert client_of(cashier.staff.user).get("/insight/rfm/").status_code == 403


def test_cells_link_to_the_segment_builder_with_the_filter(hq, shop):
    page = client_of(hq.staff.user).get("/insight/rfm/", {"store": "S1"})
    cell = next(c for c in spec_of(page)["heatmap"]["cells"] if c["r"] == 5 and c["f"] == 5)
    link = urlparse(cell["link"])
    assert link.path == "/segments/new/"
    assert json.loads(parse_qs(link.query)["filter"][0]) == {
        "all": [
            {"field": "store", "op": "eq", "value": "S1"},
            {"field": "r", "op": "eq", "value": 5},
            {"field": "f", "op": "eq", "value": 5},
        ]
    }


def test_the_workbook_lists_the_cells_and_is_audited(hq, shop):
    response = client_of(hq.staff.user).get("/insight/rfm/export.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))
    assert {row[0]: row[1] for row in rows} == {"555": 1, "333": 1}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 1


def test_the_member_page_shows_stage_cell_and_cycle(hq, shop):
    html = client_of(hq.staff.user).get(f"/members/{shop['ann'].pk}/").content.decode()
    assert 'id="member-scores"' in html
    assert 'data-stage="excited"' in html
    assert "555" in html
    assert "fewer than 3 purchase days: the merchant's 30 days apply" in html


def test_the_page_without_scores_says_so(hq, stores):
    html = client_of(hq.staff.user).get("/insight/rfm/").content.decode()
    assert "No member has been scored yet" in html
