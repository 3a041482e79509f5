import pytest

from patron.members.selectors import member_figures
from patron.members.services import register_member
from patron.tenancy.services import update_store

pytestmark = pytest.mark.django_db


def test_store_rows_add_up_to_the_total_after_a_store_is_deactivated(system, stores):
    register_member(system, {"mobile": "13800138000", "store": "S1"})
    register_member(system, {"mobile": "13800138001", "store": "S2"})
    update_store(system, stores["S2"], is_active=False)
    figures = member_figures(system)
    assert {row["store"].code: row["total"] for row in figures["stores"]} == {"S1": 1, "S2": 1}
    assert sum(row["total"] for row in figures["stores"]) == figures["totals"]["total"] == 2
