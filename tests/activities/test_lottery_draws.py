"""Draws: cost through the ledger, daily limit, budget and stock, replay from the seed, API."""

from __future__ import annotations

import json

import pytest

from patron.activities import lottery as services
from patron.activities.models import Draw, DrawDay, Lottery, Outcome
from patron.core.errors import DomainError
from patron.ledger.models import Transaction
from patron.ledger.selectors import reconcile
from patron.promotions.models import Coupon
from tests.activities.lottery_support import member_with_points, points_of, set_up, wheel

ALWAYS_POINTS = [
    {"code": "p50", "kind": "points", "points": 500, "value": 500, "odds": 100},
    {"code": "none", "kind": "none", "odds": 0},
]
ALWAYS_COUPON = [
    {"code": "c20", "kind": "coupon", "coupon": "c20", "value": 2000, "odds": 100},
    {"code": "none", "kind": "none", "odds": 0},
]


def test_a_points_prize_costs_its_points_and_credits_the_prize(system, stores):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    member = member_with_points(system, "13800000001", 300)
    record = services.draw(system, member, "wheel", key="k1")
    assert (record.prize_code, record.prize_kind, record.value) == ("p50", "points", 500)
    assert points_of(member) == 300 - 100 + 500
    lottery = Lottery.objects.get(code="wheel")
    assert lottery.spent == 500
    prize_txn = Transaction.objects.get(source="lottery", kind=Transaction.Kind.EARN)
    assert prize_txn.reason == "抽奖奖励 幸运转盘"
    assert prize_txn.source_ref == str(record.pk)
    assert reconcile(system.merchant) == []


def test_a_coupon_prize_issues_the_coupon(system, stores):
    set_up(system, wheel(prizes=ALWAYS_COUPON))
    member = member_with_points(system, "13800000002", 100)
    record = services.draw(system, member, "wheel", key="k1")
    assert record.prize_kind == "coupon"
    assert Coupon.objects.get(member=member).template.code == "c20"
    assert record.coupon.member == member


def test_the_same_key_draws_once(system, stores):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    member = member_with_points(system, "13800000003", 300)
    first = services.draw(system, member, "wheel", key="same")
    again = services.draw(system, member, "wheel", key="same")
    assert again.pk == first.pk and again.replayed
    assert Draw.objects.count() == 1
    assert points_of(member) == 700


def test_once_the_budget_is_spent_draws_give_none(system, stores):
    set_up(system, wheel(prizes=ALWAYS_POINTS, budget=1200, daily_limit=None))
    member = member_with_points(system, "13800000004", 1000)
    got = [services.draw(system, member, "wheel", key=f"k{n}") for n in range(4)]
    assert [d.prize_code for d in got] == ["p50", "p50", "none", "none"]
    assert [d.outcome for d in got][2:] == [Outcome.BUDGET_SPENT] * 2
    assert got[3].drawn == "p50" and got[3].value == 0
    assert Lottery.objects.get(code="wheel").spent == 1000


def test_a_prize_out_of_stock_gives_none(system, stores):
    prizes = [dict(ALWAYS_POINTS[0], stock=1), ALWAYS_POINTS[1]]
    set_up(system, wheel(prizes=prizes, daily_limit=None))
    member = member_with_points(system, "13800000005", 1000)
    first = services.draw(system, member, "wheel", key="a")
    second = services.draw(system, member, "wheel", key="b")
    assert (first.prize_code, second.prize_code) == ("p50", "none")
    assert second.outcome == Outcome.OUT_OF_STOCK
    assert Lottery.objects.get(code="wheel").spent == 500


def test_the_daily_limit_is_kept(system, stores):
    set_up(system, wheel(daily_limit=2, cost_points=0))
    member = member_with_points(system, "13800000006", 0)
    services.draw(system, member, "wheel", key="a")
    services.draw(system, member, "wheel", key="b")
    with pytest.raises(DomainError) as refused:
        services.draw(system, member, "wheel", key="c")
    assert (refused.value.code, refused.value.status) == ("limit_reached", 409)
    assert Draw.objects.count() == 2


def test_not_enough_points_writes_nothing(system, stores):
    set_up(system)
    member = member_with_points(system, "13800000007", 99)
    with pytest.raises(DomainError) as refused:
        services.draw(system, member, "wheel", key="a")
    assert (refused.value.code, refused.value.status) == ("insufficient_points", 422)
    assert not Draw.objects.exists() and not DrawDay.objects.exists()
    assert not Transaction.objects.filter(source="lottery").exists()
    assert points_of(member) == 99


def test_every_draw_replays_from_its_seed(system, stores):
    set_up(system, wheel(cost_points=0, daily_limit=None, budget=10**9))
    member = member_with_points(system, "13800000008", 0)
    draws = [services.draw(system, member, "wheel", key=f"k{n}") for n in range(30)]
    assert len({d.seed for d in draws}) == 30
    for record in draws:
        check = services.verify(record)
        assert check.matches and check.recomputed == record.drawn
    # A seed tampered with no longer matches what was drawn (for some of them at least).
    tampered = []
    for record in draws:
        record.seed = record.seed[::-1]
        tampered.append(services.verify(record).matches)
    assert not all(tampered)


def test_a_draw_keeps_the_odds_it_used(system, stores):
    set_up(system, wheel(cost_points=0, daily_limit=None))
    member = member_with_points(system, "13800000009", 0)
    before = services.draw(system, member, "wheel", key="a")
    set_up(system, wheel(cost_points=0, daily_limit=None, prizes=ALWAYS_POINTS))
    after = services.draw(system, member, "wheel", key="b")
    assert (before.odds.version, after.odds.version) == (1, 2)
    assert after.drawn == "p50"
    assert services.verify(Draw.objects.get(pk=before.pk)).matches


# --- API ---------------------------------------------------------------------------------


def post_draw(api, member_id, body, **headers):
    return api.post(
        f"/api/v1/members/{member_id}/draws",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_api_draw(api, system):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    member = member_with_points(system, "13800000010", 100)
    answer = post_draw(api, member.pk, {"lottery": "wheel"}, **{"Idempotency-Key": "d1"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["prize"] == {"code": "p50", "kind": "points", "value": 500}
    again = post_draw(api, member.pk, {"lottery": "wheel"}, **{"Idempotency-Key": "d1"})
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Draw.objects.count() == 1 and points_of(member) == 500


def test_api_errors(api, other_api, system):
    set_up(system, wheel(daily_limit=1))
    poor = member_with_points(system, "13800000011", 50)
    answer = post_draw(api, poor.pk, {"lottery": "wheel"})
    assert answer.status_code == 422 and answer.json()["code"] == "insufficient_points"
    assert not Draw.objects.exists()
    rich = member_with_points(system, "13800000012", 1000)
    assert post_draw(api, rich.pk, {"lottery": "wheel"}).status_code == 201
    answer = post_draw(api, rich.pk, {"lottery": "wheel"})
    assert answer.status_code == 409 and answer.json()["code"] == "limit_reached"
    answer = post_draw(api, rich.pk, {"lottery": "nope"})
    assert answer.status_code == 404 and answer.json()["code"] == "lottery_not_found"
    assert post_draw(other_api, rich.pk, {"lottery": "wheel"}).status_code == 404
    assert answer["Content-Type"].startswith("application/problem+json")
