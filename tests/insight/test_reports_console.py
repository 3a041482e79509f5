"""The 报表 pages (/reports/): who sees what (F-48), the figures on screen, the range form,
the xlsx exports read back with openpyxl (and audited), the diagnosis page."""

from __future__ import annotations

import io

import openpyxl
import pytest

from patron.core.errors import NotFound
from patron.insight.dashboard import window_for
from patron.tenancy.models import AuditEntry, Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in
from tests.insight.reports_history import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def history(system, stores):
    return build(system, stores)


@pytest.fixture
def manager(system, stores):
    return staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])


def range_of(history) -> dict[str, str]:
    return {"from": history.d1.isoformat(), "to": history.d3.isoformat()}


def test_hq_sees_every_store(history, hq):
    page = logged_in(hq, "zh-hans").get("/reports/", range_of(history))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="sales" data-value="47500"' in html
    assert "¥475.00" in html and "86.3%" in html  # member share by amount
    assert 'id="store-ranking"' in html
    assert 'data-store="S1"' in html and 'data-store="S2"' in html
    assert "满100减20" in html  # the coupon table
    assert "销售额与会员销售额" in html  # a chart's title, in Chinese
    assert 'id="chart-sales-spec"' in html  # the chart's data, as json_script
    assert "<script>" not in html  # nothing inline (CSP)
    assert history.d1.isoformat() not in html.replace(
        f'value="{history.d1.isoformat()}"', ""
    ).replace(
        f"from={history.d1.isoformat()}", ""
    )  # ISO days only in inputs and links, never as text


def test_a_store_manager_sees_their_store_only(history, manager):
    client = logged_in(manager)
    html = client.get("/reports/", range_of(history)).content.decode()
    assert 'data-figure="sales" data-value="28000"' in html
    assert 'id="store-ranking"' not in html
    assert 'name="store"' not in html  # no store picker
    other = client.get("/reports/", {**range_of(history), "store": "S2"})
    assert other.status_code == 200
    assert "You may see your own store only." in other.content.decode()
    assert 'data-value="47500"' not in other.content.decode()
    with pytest.raises(NotFound):
        window_for(manager, history.d1, history.d3, "S2")


def test_a_store_managers_export_holds_their_store_only(history, manager):
    answer = logged_in(manager).get(
        "/reports/export/stores.xlsx", {**range_of(history), "store": "S2"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["S1"]


def test_a_marketer_sees_every_store_and_a_cashier_nothing(history, marketer, cashier):
    html = logged_in(marketer).get("/reports/", range_of(history)).content.decode()
    assert 'data-value="47500"' in html
    assert logged_in(cashier).get("/reports/").status_code == 403
    assert logged_in(cashier).get("/reports/diagnosis/").status_code == 403
    assert logged_in(cashier).get("/reports/export/all.xlsx").status_code == 403


def test_one_store_picked_by_hq(history, hq):
    html = logged_in(hq).get("/reports/", {**range_of(history), "store": "S2"}).content.decode()
    assert 'data-figure="sales" data-value="19500"' in html


def test_a_backwards_range_is_a_form_error(history, hq):
    html = logged_in(hq).get("/reports/", {"from": history.d3, "to": history.d1}).content.decode()
    assert "The range starts after it ends." in html
    assert 'id="range-fallback"' in html


def test_a_preset_range(history, hq):
    page = logged_in(hq).get("/reports/", {"preset": "30d"})
    assert page.status_code == 200
    assert 'data-preset="30d" href="?from=' in page.content.decode()
    assert 'class="chip chip-on" data-preset="30d"' in page.content.decode()


def read(answer) -> openpyxl.Workbook:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(answer.content))


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=3, values_only=True))


def test_every_table_exports_to_xlsx_and_is_audited(history, hq):
    client = logged_in(hq, "zh-hans")
    stores = read(client.get("/reports/export/stores.xlsx", range_of(history))).active
    assert [(r[0], r[1], float(r[3]), float(r[4]), r[5], r[7]) for r in rows(stores)] == [
        (1, "S1", 280.0, 230.0, 5, 2),
        (2, "S2", 195.0, 180.0, 4, 0),
    ]
    staff = read(client.get("/reports/export/staff.xlsx", range_of(history))).active
    assert [(r[1], float(r[3]), r[6]) for r in rows(staff)] == [
        ("ann", 280.0, 2),
        ("bob", 135.0, 0),
        (None, 60.0, 0),
    ]
    coupons = read(client.get("/reports/export/coupons.xlsx", range_of(history))).active
    assert [(r[0], r[2], r[3], float(r[4]), float(r[5]), r[6]) for r in rows(coupons)] == [
        ("cash20", 1, 1, 20.0, 100.0, 5.0)
    ]
    owed = read(client.get("/reports/export/liabilities.xlsx", range_of(history))).active
    assert [(r[0], float(r[4]), r[5]) for r in rows(owed)] == [("S1", 500.0, 260), ("S2", 0.0, 120)]
    book = read(client.get("/reports/export/all.xlsx", range_of(history)))
    assert book.sheetnames == [
        "门店排行",
        "员工排行",
        "优惠券成本与回报",
        "按归属统计的优惠（总部与门店）",
        "负债",
        "门店诊断",
    ]
    # HQ's coupon cash20 is the range's only discount (F-41: discounts by owner).
    assert [
        (r[0], r[1], float(r[2]), r[3], float(r[4]))
        for r in rows(book["按归属统计的优惠（总部与门店）"])
    ] == [("总部", 1, 20.0, 1, 100.0)]
    assert [r[6] for r in rows(book["门店诊断"])] == [
        "到店少且客单低：检查产品质量与服务",
        "到店频繁且客单高：保持",
    ]
    exports = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).order_by("id")
    assert [entry.changes["report"][1] for entry in exports] == [
        "stores",
        "staff",
        "coupons",
        "liabilities",
        "all",
    ]
    assert exports.last().changes["rows"][1] == 2 + 3 + 1 + 1 + 2 + 2
    assert exports.last().user == hq.staff.user


def test_an_unknown_table_is_a_404(hq):
    assert logged_in(hq).get("/reports/export/members.xlsx").status_code == 404


def test_the_diagnosis_page(history, hq):
    html = logged_in(hq, "zh-hans").get("/reports/diagnosis/", range_of(history)).content.decode()
    assert 'data-store="S1" data-quadrant="quality_or_service"' in html
    assert 'data-store="S2" data-quadrant="keep"' in html
    assert "到店少且客单低：检查产品质量与服务" in html
    assert 'id="chart-diagnosis-spec"' in html


def test_an_empty_merchant_says_so(hq):
    client = logged_in(hq, "zh-hans")
    html = client.get("/reports/").content.decode()
    assert 'id="no-data"' in html and "暂无数据" in html
    diagnosis = client.get("/reports/diagnosis/").content.decode()
    assert 'id="no-data"' in diagnosis
    assert read(client.get("/reports/export/all.xlsx")).sheetnames[0] == "门店排行"
