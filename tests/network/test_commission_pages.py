"""The commission console pages per role: the monthly statement (and its xlsx), the
leaderboard, and the till's panel (my month, the store's top 5)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from patron.program.services import apply_program
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in
from tests.network.commission_support import MARCH, PROGRAM, at, new_member, post

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def month(api, system, stores, cashier, monkeypatch):
    """cashier1 at S1: a card and 6 recruits (88 yuan); cashier2 at S2: 3 recruits (30)."""
    apply_program(system, PROGRAM)
    staff_actor(system, "cashier2", Role.CASHIER, stores["S2"])
    with at(monkeypatch, MARCH):
        members = [new_member(api, "S1", "cashier1") for _ in range(6)]
        post(api, "/cards", {"member": members[0], "product": "std", "staff": "cashier1"})
        for _ in range(3):
            new_member(api, "S2", "cashier2")


def staff_shown(html: str) -> set[str]:
    return {name for name in ("cashier1", "cashier2") if f'data-staff="{name}"' in html}


def page(client, path: str = "/network/commissions/?month=2027-03") -> str:
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.content.decode()


def test_hq_sees_everyone_and_exports(month, hq):
    client = logged_in(hq, "zh-hans")
    html = page(client)
    assert staff_shown(html) == {"cashier1", "cashier2"}
    assert "西湖店" in html and "¥88.00" in html and "2027年3月" in html
    assert staff_shown(page(client, "/network/commissions/?month=2027-03&store=S2")) == {"cashier2"}
    answer = client.get("/network/commissions/?month=2027-03&format=xlsx")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.values)
    assert len(rows) == 3 and rows[1][0] == "cashier1" and float(rows[1][-1]) == 88.0
    board = page(client, "/network/commissions/leaderboard/?month=2027-03")
    assert board.index('data-staff="cashier1"') < board.index('data-staff="cashier2"')
    assert 'data-rank="1"' in board


def test_a_manager_sees_their_store_and_a_cashier_their_own_line(month, system, stores, cashier):
    manager = staff_actor(system, "manager2", Role.STORE_MANAGER, stores["S2"])
    this_month = "/network/commissions/"
    assert staff_shown(page(logged_in(manager), this_month)) == set()  # nothing now
    assert staff_shown(page(logged_in(manager))) == {"cashier2"}
    mine = logged_in(cashier)
    assert staff_shown(page(mine, this_month)) == set()
    assert staff_shown(page(mine, "/network/commissions/?month=2027-03")) == {"cashier1"}
    board = "/network/commissions/leaderboard/?month=2027-03"
    assert staff_shown(page(mine, board)) == {"cashier1"}


def test_a_malformed_month_says_so(month, hq):
    html = page(logged_in(hq), "/network/commissions/?month=2027-13")
    assert "field-error" in html


def test_the_till_panel_shows_my_month_and_the_store_top(api, system, stores, cashier):
    apply_program(system, PROGRAM)
    staff_actor(system, "cashier2", Role.CASHIER, stores["S2"])
    staff_actor(system, "cashier3", Role.CASHIER, stores["S1"])
    members = [new_member(api, "S1", "cashier1") for _ in range(3)]
    post(api, "/topups", {"member": members[0], "amount": 100000, "staff": "cashier3"})
    new_member(api, "S2", "cashier2")
    html = page(logged_in(cashier, "zh-hans"), "/network/commissions/till/")
    assert 'data-figure="my-commission" data-fen="3000"' in html
    # S1's board, me first: cashier2 works at S2
    assert html.index('data-staff="cashier1"') < html.index('data-staff="cashier3"')
    assert 'data-staff="cashier2"' not in html
    till = page(logged_in(cashier), "/cashier/")
    assert "/network/commissions/till/" in till


def test_a_row_opens_the_cards_top_ups_and_recruits_behind_it(month, hq, system, stores):
    client = logged_in(hq, "zh-hans")
    link = "/network/commissions/staff/cashier1/?month=2027-03&amp;store=S1"
    assert link in page(client)
    html = page(client, link.replace("&amp;", "&"))
    behind = html[html.index('id="staff-cards"') :]
    assert behind.count('href="/members/') == 6 + 1  # six recruits, the card's holder
    assert 'id="staff-cards"' in html and 'href="/cards/' in html and "¥88.00" in html
    manager = staff_actor(system, "manager2", Role.STORE_MANAGER, stores["S2"])
    other = logged_in(manager).get("/network/commissions/staff/cashier1/?month=2027-03&store=S1")
    assert other.status_code == 404  # not their store's row


def test_hq_home_shows_the_month_in_the_chain(month, hq, system, stores, monkeypatch):
    with at(monkeypatch, MARCH):
        html = page(logged_in(hq, "zh-hans"), "/")
        manager = staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])
        theirs = page(logged_in(manager), "/")
    card = html[html.index('id="home-network"') :]
    assert 'data-fen="11800"' in card  # 88 + 30 yuan of commissions
    assert "/network/settlements/?month=2027-03" in card
    assert 'id="home-network"' not in theirs
