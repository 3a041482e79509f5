"""Card fees, replacement fees, paid memberships and their refunds in the shift close: counted
per tender in what each method should hold, frozen on close, and on the close page and slip as
their own lines (开卡费 / 补卡费 / 付费会员)."""

from __future__ import annotations

import pytest

from patron.cards import memberships
from patron.cards.models import CardPayment
from patron.cards.payments import take_payment
from patron.shifts import selectors, services
from patron.shifts.models import Shift
from patron.tenancy.models import Role
from tests.cards.memberships_support import card_program_fixture, member_fixture  # noqa: F401
from tests.conftest import staff_actor
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def counter_day(cashier, member, system, stores):
    """cashier1 at 西湖店: card fee 38.00 cash, replacement fee 10.00 WeChat, SVIP 199.00 by
    Alipay, a month card 30.00 in cash refunded at once (30.00 back in cash), and a second SVIP
    199.00 in cash. Another cashier's card fee is theirs."""
    take_payment(cashier, member, CardPayment.Kind.CARD_FEE, 3800, method="cash", key="fee")
    take_payment(cashier, member, CardPayment.Kind.REPLACE_FEE, 1000, method="wechat", key="rep")
    memberships.buy_membership(cashier, member, "svip", method="alipay", key="svip1")
    month = memberships.buy_membership(cashier, member, "month", method="cash", key="m")
    memberships.CardProduct.objects.filter(code="month").update(refund={"pro_rata": True})
    memberships.refund_membership(cashier, member, month.pk, method="cash", key="mr")
    memberships.buy_membership(cashier, member, "svip", method="cash", key="svip2")
    other = staff_actor(system, "cashier2", Role.CASHIER, stores["S1"])
    take_payment(other, member, CardPayment.Kind.CARD_FEE, 3800, method="cash", key="other")
    return cashier


def test_card_money_is_counted_per_tender(counter_day, cashier, stores):
    window = selectors.open_window(cashier, cashier.user, stores["S1"])
    taken = selectors.figures(cashier.merchant, stores["S1"], cashier.user, window.started_at)
    assert taken.card_payments_count == 6
    assert taken.card_payments["card_fee"]["cash"] == 3800
    assert taken.card_payments["replace_fee"]["wechat"] == 1000
    assert taken.card_payments["membership"] == {
        "cash": 3000 - 3000 + 19900,
        "wechat": 0,
        "alipay": 19900,
        "card": 0,
        "other": 0,
    }
    rows = {row.method: row for row in taken.tender_rows()}
    assert (rows["cash"].cards, rows["wechat"].cards, rows["alipay"].cards) == (23700, 1000, 19900)
    assert taken.cash_expected == 23700
    assert rows["alipay"].expected == 19900
    assert [line.total for line in taken.card_lines()] == [3800, 1000, 39800]


def test_closing_freezes_them_and_the_slip_shows_them(counter_day, cashier, stores):
    page = logged_in(cashier, "zh-hans")
    close_page = page.get("/shifts/close/").content.decode()
    assert 'data-figure="card-membership" data-fen="39800"' in close_page
    assert "付费会员" in close_page and "开卡费" in close_page and "补卡费" in close_page
    assert 'data-figure="cash-expected" data-fen="23700"' in close_page
    shift = services.close_shift(cashier, stores["S1"], 23700)
    assert shift.cash_difference == 0
    shift = Shift.objects.get(pk=shift.pk)
    again = selectors.frozen(shift)
    assert again.card_payments["membership"]["alipay"] == 19900
    assert again.cash_expected == 23700
    slip = page.get(f"/shifts/{shift.pk}/slip/").content.decode()
    assert "付费会员" in slip and "¥398.00" in slip and "¥38.00" in slip and "¥10.00" in slip


def test_card_money_alone_opens_a_shift(cashier, member, stores):
    take_payment(cashier, member, CardPayment.Kind.CARD_FEE, 3800, method="cash", key="fee")
    shift = services.close_shift(cashier, stores["S1"], 3800)
    assert shift.cash_expected == 3800 and shift.card_payments["count"] == 1
