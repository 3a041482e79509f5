"""Each activity's ledger movements read in their own words on the member's history and the
console's ledger pages: a draw's cost is not "points used as cash", a check-in's points are
not "earned on a purchase"."""

from __future__ import annotations

import pytest

from patron.activities import checkin
from patron.activities import lottery as draws
from patron.ledger.models import Asset, Transaction
from patron.ledger.references import reason_words
from patron.members.services import register_member
from patron.portal.history_selectors import movement_row, movement_title
from patron.program.services import apply_program
from tests.activities.lottery_support import member_with_points, set_up

pytestmark = pytest.mark.django_db


def words(txn: Transaction) -> tuple[str, str]:
    return movement_title(txn), reason_words(txn.kind, txn.source)


def test_a_draw_cost_reads_as_the_lottery(system, stores):
    set_up(system)
    member = member_with_points(system, "13900001111", 1000)
    record = draws.draw(system, member, "wheel", key="d1")
    cost = Transaction.objects.get(source=draws.SOURCE, source_ref=str(record.pk), kind="spend")
    assert words(cost) == ("抽奖", "抽奖")


def test_check_in_points_read_as_the_check_in(system, stores):
    apply_program(system, {"checkin": {"points": 5}})
    member = register_member(system, {"mobile": "13900002222", "store": "S1"})
    checkin.check_in(system, member)
    earned = Transaction.objects.get(source=checkin.SOURCE)
    assert words(earned) == ("每日签到", "每日签到")


def test_the_member_history_says_check_in_once(system, stores):
    apply_program(system, {"checkin": {"points": 5}})
    member = register_member(system, {"mobile": "13900003333", "store": "S1"})
    checkin.check_in(system, member)
    earned = Transaction.objects.get(source=checkin.SOURCE)
    row = movement_row(member, earned, {Asset.POINTS: 5}, None)
    assert (row.title, row.note) == ("每日签到", "")
