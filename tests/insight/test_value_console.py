"""The value page (/insight/value/), its exports, the member page's value card and the
Pareto selector other parts call."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from patron.insight.clv import fitting
from patron.insight.models import MemberInsight
from patron.insight.value_selectors import pareto_share
from patron.insight.value_views import percent
from patron.tenancy.models import AuditEntry
from tests.console.conftest import logged_in
from tests.insight.test_value_fit import history
from tests.insight.value_data import make_members, make_sales

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZONE)


@pytest.fixture
def manager(system, stores):
    from patron.tenancy.models import Role
    from tests.conftest import staff_actor

    return staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])


def test_pareto_share_of_members_giving_80_percent_hand_worked(merchant, stores):
    s1, s2 = stores["S1"], stores["S2"]
    a, b, c, d = make_members(merchant, s1, 4, at("2026-01-01"))
    make_sales(
        merchant,
        s1,
        [
            (a, at("2026-03-01"), 6000),
            (a, at("2026-03-02"), 4000),  # a: 10,000
            (b, at("2026-03-03"), 5000),
            (c, at("2026-03-04"), 3000),
            (d, at("2026-03-05"), 2000),  # total 20,000; 80 % = 16,000
            (d, at("2026-04-01"), 99999),  # after the period
        ],
    )
    make_sales(merchant, s2, [(d, at("2026-03-06"), 8000)])
    # a + b = 15,000 < 16,000; a + b + c = 18,000: 3 of the 4 members
    got = pareto_share(merchant, dt.date(2026, 3, 1), dt.date(2026, 3, 5), store=s1)
    assert (got.members, got.gross, got.top_members, got.share) == (4, 20000, 3, 0.75)
    assert got.curve[0] == (0.0, 0.0) and got.curve[-1] == (1.0, 1.0)
    assert got.curve[5] == pytest.approx((0.25, 0.5))  # the first of four members: a's half
    # All stores: d brings 10,000 (2,000 + 8,000): a 10,000, d 10,000 -> 20,000 of 28,000
    everywhere = pareto_share(merchant, dt.date(2026, 3, 1), dt.date(2026, 3, 6))
    assert (everywhere.gross, everywhere.top_members) == (28000, 3)
    empty = pareto_share(merchant, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert (empty.members, empty.share, empty.curve) == (0, None, [])


@pytest.fixture
def scored(merchant, stores):
    members = history(merchant, stores["S1"], count=60)
    fitting.value_step(merchant, at("2026-07-01", "00:00"))
    return members


def test_value_page_shows_pareto_fit_spread_and_member_tables(hq, scored, settings):
    client = logged_in(hq)
    response = client.get("/insight/value/?since=2025-07-01&until=2026-06-30")
    assert response.status_code == 200
    html = response.content.decode()
    for needle in ('data-figure="pareto_share"', "value-lorenz", 'id="value-fit"', "value-alive"):
        assert needle in html
    assert 'id="value-top"' in html and 'id="value-lost"' in html
    top = MemberInsight.objects.order_by("-expected_value_90d", "member_id").first()
    assert f'data-member="{top.member_id}"' in html
    assert top.member.mobile not in html  # masked in lists
    assert top.member.mobile[:3] + "****" + top.member.mobile[-4:] in html
    assert f"/members/{top.member_id}/" in html


def test_value_page_in_chinese_says_it_in_words(hq, scored):
    html = logged_in(hq, "zh-hans").get("/insight/value/").content.decode()
    assert "会员价值" in html and "贡献80%销售额的会员" in html


def test_store_manager_sees_only_their_store(manager, hq, merchant, stores, scored):
    elsewhere = make_members(merchant, stores["S2"], 1, at("2025-01-01"))  # noqa: F841
    html = logged_in(manager).get("/insight/value/?store=S2").content.decode()
    assert "西湖店" in html
    assert '<option value="S2"' not in html


def test_cashier_may_not_see_the_value_page(cashier, scored):
    assert logged_in(cashier).get("/insight/value/").status_code == 403


def test_backwards_period_is_a_form_error_not_a_crash(hq, scored):
    response = logged_in(hq).get("/insight/value/?since=2026-06-30&until=2026-01-01")
    assert response.status_code == 200
    assert "The end comes before the start." in response.content.decode()


@pytest.mark.parametrize("table", ["pareto", "alive", "top", "lost"])
def test_each_table_exports_to_xlsx(hq, scored, table):
    response = logged_in(hq).get(f"/insight/value/export/{table}.xlsx?since=2025-07-01")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 1
    audited = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    assert audited == (1 if table in ("top", "lost") else 0)
    if table == "top":
        assert "****" in rows[1][2]


def test_percentages_in_words():
    shares = (None, 0.0, 0.001, 0.006, 0.834, 1.0)
    assert [percent(p) for p in shares] == ["—", "0%", "<1%", "1%", "83%", "100%"]


def test_unknown_export_is_404(hq, scored):
    assert logged_in(hq).get("/insight/value/export/everyone.xlsx").status_code == 404


def test_member_page_shows_the_value_card_in_words(hq, scored):
    member = scored[0]
    insight = MemberInsight.objects.get(member=member)
    html = logged_in(hq, "zh-hans").get(f"/members/{member.pk}/").content.decode()
    assert 'id="member-value-panel"' in html
    assert f"仍活跃的概率 {percent(insight.p_alive)}" in html
    assert "未来90天" in html
