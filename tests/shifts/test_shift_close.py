"""Shift close (交班): a scripted day at the counter, its figures worked out by hand, closed
once, and seen by whom it may be seen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from patron.core.errors import DomainError
from patron.ledger import services as ledger
from patron.sales import services as sales
from patron.shifts import selectors, services
from patron.shifts.models import Shift
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_staff
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db


def line(sku: str, price: int) -> sales.LineInput:
    return sales.LineInput(sku=sku, category="retail", quantity=1, unit_price=price)


def other_cashier(system, store, name="cashier2") -> Actor:
    staff = create_staff(system, name, "password123", Role.CASHIER, store)
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


def top_up(actor: Actor, member, amount: int, method: str, key: str) -> None:
    context = ledger.Context(store=actor.store)
    ledger.top_up(actor, member, amount, key=key, payment_method=method, context=context)


@pytest.fixture
def day(cashier, gold, stores, system):
    """cashier1's day at 西湖店:
    A  walk-in 148.01: WeChat 100.00 + cash 48.01 (50.00 handed over);
    B  the gold member 200.00: 1000 points (10.00) and 50.00 stored value, Alipay 140.00;
    C  walk-in 30.00 in cash (no tenders named);
    a  refund of A's 49.34 mug: WeChat 33.34, cash 16.00 (tests/sales/test_tenders.py);
    top-ups for the member: 200.00 by WeChat, 50.00 in cash.
    Another cashier's sale at the same store is theirs, not cashier1's."""
    a = sales.commit_sale(
        cashier,
        sales.SaleRequest(
            lines=[line("MUG", 4934), line("BAG", 4934), line("PEN", 4933)],
            tenders=[
                sales.TenderInput("wechat", 10000),
                sales.TenderInput("cash", 4801, tendered=5000),
            ],
        ),
    )
    b = sales.commit_sale(
        cashier,
        sales.SaleRequest(
            lines=[line("COAT", 20000)],
            member=gold.pk,
            points_to_redeem=1000,
            stored_value=5000,
            tenders=[sales.TenderInput("alipay", 14000)],
        ),
    )
    c = sales.commit_sale(cashier, sales.SaleRequest(lines=[line("CAKE", 3000)]))
    sales.refund_sale(cashier, a, sales.RefundAsk(lines=(("MUG", 1),)))
    top_up(cashier, gold, 20000, "wechat", "day-topup-1")
    top_up(cashier, gold, 5000, "cash", "day-topup-2")
    sales.commit_sale(
        other_cashier(system, stores["S1"]), sales.SaleRequest(lines=[line("TEA", 999)])
    )
    assert (b.cash_due, b.points_value, b.stored_value_paid, c.cash_due) == (
        14000,
        1000,
        5000,
        3000,
    )
    return {"a": a, "b": b, "c": c}


def open_figures(actor: Actor, store):
    window = selectors.open_window(actor, actor.user, store)
    return selectors.figures(actor.merchant, store, actor.user, window.started_at)


def test_the_day_adds_up_by_hand(day, cashier, stores):
    taken = open_figures(cashier, stores["S1"])
    assert (taken.sales_count, taken.refunds_count, taken.topups_count) == (3, 1, 2)
    rows = {
        row.method: (row.sales, row.refunds, row.net, row.topups, row.expected)
        for row in taken.tender_rows()
    }
    # cash: 48.01 + 30.00 sold, 16.00 refunded, 50.00 topped up: 62.01 net, 112.01 expected
    assert rows["cash"] == (7801, 1600, 6201, 5000, 11201)
    # WeChat: 100.00 sold, 33.34 refunded, 200.00 topped up
    assert rows["wechat"] == (10000, 3334, 6666, 20000, 26666)
    assert rows["alipay"] == (14000, 0, 14000, 0, 14000)
    assert rows["card"] == rows["other"] == (0, 0, 0, 0, 0)
    assert taken.cash_expected == 11201
    assert taken.topups_total == 25000
    assert (taken.points_redeemed, taken.points_value, taken.stored_value_paid) == (
        1000,
        1000,
        5000,
    )
    assert (taken.points_returned, taken.stored_value_returned) == (0, 0)


def test_closing_freezes_the_figures_and_the_difference(day, cashier, stores):
    shift = services.close_shift(cashier, stores["S1"], 11000, note="少 2.01")
    shift.refresh_from_db()
    assert shift.status == Shift.Status.CLOSED
    assert (shift.cash_expected, shift.cash_counted, shift.cash_difference) == (11201, 11000, -201)
    assert (shift.sales_count, shift.refunds_count, shift.topups_count) == (3, 1, 2)
    assert shift.tenders["wechat"] == {"sales": 10000, "refunds": 3334, "net": 6666}
    assert shift.topups == {"cash": 5000, "wechat": 20000, "alipay": 0, "card": 0, "other": 0}
    assert (shift.points_redeemed, shift.stored_value_paid) == (1000, 5000)
    assert shift.opened_at <= shift.closed_at and shift.user == cashier.user
    # A refund after the close belongs to the next shift; the closed one does not move.
    sales.refund_sale(cashier, day["a"], sales.RefundAsk(lines=(("BAG", 1),)))
    again = selectors.frozen(Shift.objects.get(pk=shift.pk))
    assert again.tenders["wechat"].refunds == 3334
    following = open_figures(cashier, stores["S1"])
    assert (following.sales_count, following.refunds_count) == (0, 1)
    # BAG 49.34 over what is left (66.66 WeChat, 32.01 cash): 33.33 + 16.01
    assert following.tenders["wechat"].refunds == 3333
    assert following.tenders["cash"].refunds == 1601
    assert following.cash_expected == -1601


def test_closing_twice_is_refused_and_writes_nothing(day, cashier, stores):
    window = selectors.open_window(cashier, cashier.user, stores["S1"])
    services.close_shift(cashier, stores["S1"], 11201, since=window.started_at)
    with pytest.raises(DomainError) as refused:
        services.close_shift(cashier, stores["S1"], 11201, since=window.started_at)
    assert refused.value.code == "shift_already_closed"
    with pytest.raises(DomainError) as nothing_open:
        services.close_shift(cashier, stores["S1"], 0)
    assert nothing_open.value.code == "no_open_shift"
    assert Shift.objects.count() == 1


def test_a_shift_opened_by_hand_closes_even_without_sales(cashier, stores, program):
    opened = services.open_shift(cashier, stores["S1"])
    assert services.open_shift(cashier, stores["S1"]) == opened
    shift = services.close_shift(cashier, stores["S1"], 0)
    assert shift.pk == opened.pk and shift.status == Shift.Status.CLOSED
    assert (shift.sales_count, shift.cash_expected, shift.cash_difference) == (0, 0, 0)


def test_a_cashier_closes_only_in_their_own_store(cashier, stores, program):
    with pytest.raises(DomainError):
        services.close_shift(cashier, stores["S2"], 0)


# --- who sees which shifts -------------------------------------------------------------------


@pytest.fixture
def shifts(system, stores, cashier, manager, hq, program):
    """Closed shifts: cashier1 and cashier2 at 西湖店, cashier3 at 滨江店."""
    second = other_cashier(system, stores["S1"], "cashier2")
    third = other_cashier(system, stores["S2"], "cashier3")
    made = {}
    for name, actor, store in (
        ("mine", cashier, stores["S1"]),
        ("colleague", second, stores["S1"]),
        ("elsewhere", third, stores["S2"]),
    ):
        sales.commit_sale(actor, sales.SaleRequest(lines=[line("CAKE", 3000)]))
        made[name] = services.close_shift(actor, store, 3000)
    return made


def visible(actor: Actor, shifts: dict) -> set[str]:
    ids = set(selectors.closed_shifts(actor).values_list("pk", flat=True))
    return {name for name, shift in shifts.items() if shift.pk in ids}


def test_a_cashier_sees_their_own_a_manager_their_store_hq_all(shifts, cashier, manager, hq):
    assert visible(cashier, shifts) == {"mine"}
    assert visible(manager, shifts) == {"mine", "colleague"}
    assert visible(hq, shifts) == {"mine", "colleague", "elsewhere"}


def test_the_pages_follow_the_same_rule(shifts, cashier, manager, hq):
    cashier_page = logged_in(cashier)
    assert cashier_page.get(f"/shifts/{shifts['mine'].pk}/").status_code == 200
    assert cashier_page.get(f"/shifts/{shifts['colleague'].pk}/").status_code == 404
    manager_page = logged_in(manager)
    listed = manager_page.get("/shifts/").content.decode()
    assert f'data-shift="{shifts["colleague"].pk}"' in listed
    assert f'data-shift="{shifts["elsewhere"].pk}"' not in listed
    assert manager_page.get(f"/shifts/{shifts['elsewhere'].pk}/slip/").status_code == 404
    assert logged_in(hq).get(f"/shifts/{shifts['elsewhere'].pk}/slip/").status_code == 200


def test_marketers_have_no_shift_pages(shifts, system):
    marketer = create_staff(system, "mk", "password123", Role.MARKETER)
    page = logged_in(Actor(merchant=system.merchant, staff=marketer))
    assert page.get("/shifts/").status_code == 403


# --- the close page --------------------------------------------------------------------------


def test_the_close_page_checks_the_difference_then_closes_once(day, cashier, stores):
    page = logged_in(cashier, "zh-hans")
    shown = page.get("/shifts/close/").content.decode()
    assert 'data-figure="cash-expected" data-fen="11201"' in shown
    assert "微信支付" in shown and "现金" in shown
    since = selectors.open_window(cashier, cashier.user, stores["S1"]).started_at.isoformat()
    checked = page.post("/shifts/close/", {"cash_counted": "110", "since": since, "op": "check"})
    assert 'data-figure="cash-difference" data-fen="-201"' in checked.content.decode()
    assert not Shift.objects.exists()
    closed = page.post("/shifts/close/", {"cash_counted": "110", "since": since, "op": "close"})
    shift = Shift.objects.get()
    assert closed.status_code == 302 and closed["Location"] == f"/shifts/{shift.pk}/"
    twice = page.post("/shifts/close/", {"cash_counted": "110", "since": since, "op": "close"})
    assert twice.status_code == 200 and "已于" in twice.content.decode()
    assert Shift.objects.count() == 1
    slip = page.get(f"/shifts/{shift.pk}/slip/").content.decode()
    assert "shifts/slip.css" in slip and "交班" in slip and "-¥2.01" in slip
    assert timezone.localtime(shift.closed_at).strftime("%H:%M") in slip


# --- the command line ------------------------------------------------------------------------


def test_patron_shifts_close_and_list(day, cashier, capsys):
    from tests.cli_support import cli_in_process

    slug = cashier.merchant.slug
    args = ("shifts", "close", "--merchant", slug, "--store", "S1", "--user", "cashier1")
    assert cli_in_process(*args, "--counted", "112.01") == 0
    assert "difference ¥0.00" in capsys.readouterr().out
    shift = Shift.objects.get()
    assert (shift.cash_expected, shift.cash_difference, shift.sales_count) == (11201, 0, 3)
    assert cli_in_process("shifts", "list", "--merchant", slug) == 0
    assert f"#{shift.pk}\tS1\tcashier1" in capsys.readouterr().out
    assert cli_in_process(*args, "--counted", "0") == 1  # nothing open any more
