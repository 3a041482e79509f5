"""Daily check-in (F-16): once a day in the merchant's zone, streaks across midnight, streak
bonuses at exactly N days, make-up cards, points through the ledger, program errors."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.activities import checkin
from patron.activities.checkin_program import export_checkin
from patron.activities.models import CheckIn
from patron.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from patron.ledger import selectors as ledger_selectors
from patron.ledger.models import Transaction
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.program.services import apply_program

pytestmark = pytest.mark.django_db
UTC = dt.UTC
CHECKIN = {
    "checkin": {
        "points": 5,
        "streaks": [{"days": 3, "points": 20, "makeup_cards": 1}, {"days": 30, "points": 100}],
        "makeup_cards": {"window_days": 7},
    }
}


def at_shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """December 2026, Asia/Shanghai wall time, as UTC."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=UTC) - dt.timedelta(hours=8)


def points(member) -> int:
    return ledger_selectors.member_balances(member)["points"]["available"]


@pytest.fixture
def rules(system, stores):
    apply_program(system, CHECKIN)


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": "13900001111", "store": "S1"})


def test_once_a_day_and_the_second_is_409(system, rules, member):
    first = checkin.check_in(system, member, at=at_shanghai(5, 9))
    assert (first.points, first.checkin.streak) == (5, 1)
    with pytest.raises(Conflict) as refused:
        checkin.check_in(system, member, at=at_shanghai(5, 23, 59))
    assert refused.value.code == "already_checked_in"
    assert CheckIn.objects.filter(member=member).count() == 1
    assert points(member) == 5
    assert reconcile() == []


def test_the_day_turns_at_midnight_in_shanghai_not_utc(system, rules, member):
    # 23:59 and 00:01 Shanghai are the same UTC day (15:59 and 16:01 UTC): two days here
    checkin.check_in(system, member, at=at_shanghai(5, 23, 59))
    second = checkin.check_in(system, member, at=at_shanghai(6, 0, 1))
    assert second.checkin.day == dt.date(2026, 12, 6)
    assert second.checkin.streak == 2
    # 07:00 and 09:00 Shanghai on the 7th straddle UTC midnight: one day here
    checkin.check_in(system, member, at=at_shanghai(7, 7))
    with pytest.raises(Conflict):
        checkin.check_in(system, member, at=at_shanghai(7, 9))


def test_a_missed_day_starts_the_streak_again(system, rules, member):
    checkin.check_in(system, member, at=at_shanghai(1, 9))
    checkin.check_in(system, member, at=at_shanghai(2, 9))
    again = checkin.check_in(system, member, at=at_shanghai(4, 9))
    assert again.checkin.streak == 1


def test_streak_bonus_exactly_at_n_days_with_a_makeup_card(system, rules, member):
    days = [checkin.check_in(system, member, at=at_shanghai(d, 9)) for d in (1, 2, 3, 4)]
    assert [o.checkin.streak for o in days] == [1, 2, 3, 4]
    assert [o.points for o in days] == [5, 5, 25, 5]  # 20 more on the 3rd day only
    assert days[2].makeup_cards == 1
    assert checkin.makeup_cards_of(member) == 1
    assert points(member) == 40
    reasons = set(Transaction.objects.filter(member=member).values_list("reason", flat=True))
    assert reasons == {"每日签到", "连续签到3天奖励"}


def test_a_makeup_card_fills_a_gap_and_the_streak_continues(system, rules, member):
    checkin.grant_makeup_cards(system, member, 1, "客服补偿", key="grant-1")
    checkin.grant_makeup_cards(system, member, 1, "客服补偿", key="grant-1")  # a retry
    assert checkin.makeup_cards_of(member) == 1
    checkin.check_in(system, member, at=at_shanghai(1, 9))
    checkin.check_in(system, member, at=at_shanghai(3, 9))  # the 2nd was missed
    filled = checkin.check_in(
        system, member, makeup_day=dt.date(2026, 12, 2), at=at_shanghai(3, 20)
    )
    assert filled.checkin.makeup and filled.checkin.streak == 3  # 1st, 2nd (filled), 3rd
    assert CheckIn.objects.get(member=member, day=dt.date(2026, 12, 3)).streak == 3
    assert checkin.makeup_cards_of(member) == 0
    assert checkin.check_in(system, member, at=at_shanghai(4, 9)).checkin.streak == 4
    assert checkin.current_streak(member, dt.date(2026, 12, 4)) == 4


def test_a_makeup_needs_a_card_and_a_day_in_the_window(system, rules, member):
    with pytest.raises(Conflict) as refused:
        checkin.check_in(system, member, makeup_day=dt.date(2026, 12, 2), at=at_shanghai(3, 9))
    assert refused.value.code == "no_makeup_cards"
    assert not CheckIn.objects.filter(member=member).exists()  # nothing half-written
    checkin.grant_makeup_cards(system, member, 2, "活动奖励")
    for day in (dt.date(2026, 12, 3), dt.date(2026, 11, 25)):  # today; beyond 7 days
        with pytest.raises(ValidationFailed):
            checkin.check_in(system, member, makeup_day=day, at=at_shanghai(3, 9))
    assert checkin.makeup_cards_of(member) == 2


def test_not_offered_without_the_section(system, stores, member):
    with pytest.raises(DomainError) as refused:
        checkin.check_in(system, member)
    assert refused.value.code == "checkin_not_offered"


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def test_api_checkin_201_then_409(api, rules, member):
    path = f"/api/v1/members/{member.pk}/checkins"
    first = post(api, path)
    assert first.status_code == 201, first.content
    assert {k: first.json()[k] for k in ("points", "streak")} == {"points": 5, "streak": 1}
    second = post(api, path)
    assert second.status_code == 409
    assert second.json()["code"] == "already_checked_in"
    state = api.get(path).json()
    assert state["checked_in_today"] and state["streak"] == 1


def test_api_makeup_cards_and_makeup_day(api, rules, member):
    granted = post(api, f"/api/v1/members/{member.pk}/makeup-cards", {"count": 1, "reason": "x"})
    assert granted.status_code == 201 and granted.json() == {"makeup_cards": 1}
    yesterday = checkin.local_today(member.merchant) - dt.timedelta(days=1)
    made = post(api, f"/api/v1/members/{member.pk}/checkins", {"makeup_day": str(yesterday)})
    assert made.status_code == 201, made.content
    assert made.json()["makeup"] is True
    bad = post(api, f"/api/v1/members/{member.pk}/checkins", {"makeup_day": "2020-01-01"})
    assert bad.status_code == 422


def test_program_errors_have_paths(system, stores):
    bad = {
        "checkin": {
            "points": -1,
            "streaks": [{"days": 7, "points": 20}, {"days": 7, "points": 5}],
            "actions": {"review": "ten"},
        },
        "referral": {"referee_coupon": "nope", "on": "join"},
    }
    with pytest.raises(ValidationFailed) as refused:
        apply_program(system, bad)
    paths = {error.field for error in refused.value.errors}
    assert {
        "checkin.points",
        "checkin.streaks[1].days",
        "checkin.actions.review",
        "referral.referrer_points",
        "referral.on",
    } <= paths


def test_referral_coupon_must_be_known(system, stores):
    with pytest.raises(ValidationFailed) as refused:
        apply_program(system, {"referral": {"referrer_points": 500, "referee_coupon": "nope"}})
    assert [e.field for e in refused.value.errors] == ["referral.referee_coupon"]


def test_export_round_trips(system, rules):
    full = {
        "checkin": {
            **CHECKIN["checkin"],
            "actions": {"profile_completed": 50, "review": 10, "reviews_per_day": 2},
            "birthday": {"points_multiplier": 2, "when": "month", "calendar": "solar"},
        },
        "referral": {"referrer_points": 500, "on": "first_purchase", "monthly_cap": 3},
    }
    apply_program(system, full)
    exported = export_checkin(system)
    assert exported["birthday"]["points_multiplier"] == 2
    assert apply_program(system, full, dry_run=True) == []
    assert apply_program(system, {"checkin": exported}, dry_run=True) == []


def test_api_checkin_needs_no_body(api, rules, member):
    path = f"/api/v1/members/{member.pk}/checkins"
    assert api.post(path).status_code == 201  # no body, no content type
    assert api.post(path, "", content_type="application/json").status_code == 409
    bad = api.post(path, {"makeup_day": "soon"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "makeup_day"


def test_only_some_roles_give_makeup_cards(cashier, marketer, rules, member):
    with pytest.raises(PermissionDenied):
        checkin.give_makeup_cards(cashier, member, 1, "x")
    assert checkin.give_makeup_cards(marketer, member, 2, "活动奖励") == 2
    # a cashier checking a member in at the till still pays the streak's cards
    assert checkin.check_in(cashier, member).checkin.streak == 1
