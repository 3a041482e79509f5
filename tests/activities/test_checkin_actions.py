"""Points for actions (F-16) and the birthday points multiplier (F-28), through members' and
insight's hooks: the profile completed pays once ever, a review pays within a daily cap, a
sale on the birthday earns the multiplier and its refund takes it back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from patron.activities import actions, checkin
from patron.activities.models import ActionReward
from patron.insight.feedback import EventInput, record_event
from patron.ledger import selectors as ledger_selectors
from patron.ledger.selectors import reconcile
from patron.members import hooks
from patron.members.services import register_member, update_member
from patron.program.services import apply_program

pytestmark = pytest.mark.django_db
COMPLETE = {
    "name": "王小明",
    "gender": "M",
    "birthday": "1990-05-20",
    "email": "xm@example.com",
    "region": "杭州",
}
PROGRAM = {
    "categories": ["drinks"],
    "points": {"earn": {"per_amount": 100, "points": 1}, "pending_days": 0},
    "checkin": {
        "actions": {"profile_completed": 50, "review": 10, "reviews_per_day": 2},
        "birthday": {"points_multiplier": 2, "when": "day", "calendar": "solar"},
    },
}


def points(member) -> int:
    return ledger_selectors.member_balances(member)["points"]["available"]


@pytest.fixture
def rules(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def member(system, rules):
    return register_member(system, {"mobile": "13900002222", "store": "S1"})


def test_update_member_tells_the_activity_handlers(system, member):
    seen = []

    def spy(actor, who, kind, detail):
        seen.append((who.pk, kind, sorted(detail.get("changes", {}))))

    hooks.add_activity_handler(spy)
    try:
        update_member(system, member, {"name": "王"})
        update_member(system, member, {"name": "王"})  # nothing changed: nothing told
    finally:
        hooks._activity.remove(spy)
    assert seen == [(member.pk, "profile", ["name"])]


def test_profile_completed_pays_once_ever(system, member):
    update_member(system, member, {"name": "王小明", "gender": "M"})
    assert points(member) == 0  # not complete yet
    update_member(system, member, COMPLETE)
    assert points(member) == 50
    update_member(system, member, {"region": "上海"})
    update_member(system, member, {"email": ""})
    update_member(system, member, {"email": "new@example.com"})
    assert points(member) == 50
    assert ActionReward.objects.filter(member=member).count() == 1


def test_a_complete_profile_at_registration_pays(system, rules):
    joined = register_member(system, {"mobile": "13900003333", "store": "S1", **COMPLETE})
    assert points(joined) == 50


def test_reviews_pay_within_the_daily_cap(system, member):
    for _n in range(3):
        record_event(system, member, EventInput(kind="review", rating=5, body="好"))
    record_event(system, member, EventInput(kind="suggestion", body="多开分店"))
    assert points(member) == 20
    assert ActionReward.objects.filter(member=member, action="review").count() == 2
    assert reconcile() == []


def test_birthday_multiplier_doubles_a_sale_and_a_refund_takes_it_back(api, system, member):
    today = checkin.local_today(system.merchant)
    update_member(system, member, {"birthday": today.replace(year=1990).isoformat()})
    line = {"sku": "TEA", "category": "drinks", "quantity": 2, "unit_price": 2500}
    sale = api.post(
        "/api/v1/sales",
        {"member": member.pk, "store": "S1", "lines": [line]},
        content_type="application/json",
    ).json()
    assert sale["points_earned"] == 50
    assert points(member) == 100  # 50 earned, 50 more on the birthday
    api.post(f"/api/v1/sales/{sale['id']}/refunds", {"all": True}, content_type="application/json")
    assert points(member) == 0
    assert reconcile() == []


def test_no_multiplier_on_another_day(system, member):
    other = timezone.localdate().replace(
        year=1990, month=1 if timezone.localdate().month != 1 else 2
    )
    member.birthday = other
    assert not actions.is_birthday(member, checkin.local_today(system.merchant), "day", "solar")
