"""The demo's activities: a flash offer, the points mall, a lucky wheel, daily check-in,
referral rewards and two upcoming member-only events, with a little history made through the
services (redemptions, draws, check-ins, sign-ups) so their console pages are not empty."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone

from patron.activities import checkin, events_service, lottery, mall
from patron.activities.models import Reward
from patron.core.errors import DomainError
from patron.demo.data import DEMO_ACTIVITIES, DEMO_EVENTS, FLASH_OFFER
from patron.ledger.services import quick_balances
from patron.members.models import Member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

REDEMPTIONS = 8
DRAWERS = 15
CHECKERS = 25
CHECKIN_DAYS = 9  # the longest run seeded: past the 7-day streak bonus
SIGNUPS = 6
FLASH_BUYERS = 7


def _flash_sales(cashiers: Mapping[str, Actor], members: list[Member]) -> None:
    """Some of the flash offer's units sold at the counter, so its live count is not 0 / 100."""
    for member in members:
        store = member.store.code
        request = sales.SaleRequest(
            lines=[sales.LineInput(sku="GIFT-TEA")], member=member.pk, store=store
        )
        sales.commit_sale(cashiers[store], request, key=f"demo-flash-{member.pk}")


def seed_activities(
    actor: Actor, members: Sequence[Member], cashiers: Mapping[str, Actor], seed: int = 19
) -> None:
    """`cashiers`: each store's cashier by store code, who sells the flash offer."""
    apply_program(actor, launched_now(DEMO_ACTIVITIES))
    rng = random.Random(seed)
    members = list(members)
    with_points = [m for m in members if quick_balances(m)["points"] >= 1000]
    rng.shuffle(with_points)
    in_stores = [m for m in members if m.store_id]
    _flash_sales(cashiers, rng.sample(in_stores, min(FLASH_BUYERS, len(in_stores))))
    _redeem(actor, with_points[:REDEMPTIONS])
    _draw(actor, with_points[REDEMPTIONS : REDEMPTIONS + DRAWERS], rng)
    _check_in(actor, rng.sample(members, min(CHECKERS, len(members))), rng)
    _events(actor, members, rng)


def launched_now(activities: Mapping[str, Any]) -> dict[str, Any]:
    """The flash offer starts when it is launched, after the history: replaying the history
    under today's program (what if, docs/whatif.md) then prices it as it was sold."""
    launched = timezone.now().replace(microsecond=0).isoformat()
    offers = [
        {**offer, "starts_at": launched} if offer["code"] == FLASH_OFFER["code"] else offer
        for offer in activities["promotions"]
    ]
    return {**activities, "promotions": offers}


def _redeem(actor: Actor, members: list[Member]) -> None:
    """Half take the coupon, half the tea box; the first tea box is handed over (its cash part
    paid in cash), the others wait in the queue."""
    rewards = {r.code: r for r in Reward.objects.filter(merchant=actor.merchant)}
    for n, member in enumerate(members):
        reward = rewards["gift_tea" if n % 2 else "dish50"]
        done = mall.redeem(actor, member, reward, key=f"demo-mall-{member.pk}", store=member.store)
        if n == 1:
            mall.fulfil(actor, done, store=member.store)


def _draw(actor: Actor, members: list[Member], rng: random.Random) -> None:
    for member in members:
        for n in range(rng.randint(1, 3)):
            lottery.draw(actor, member, "wheel", key=f"demo-draw-{member.pk}-{n}")


def _check_in(actor: Actor, members: list[Member], rng: random.Random) -> None:
    """Runs of days ending today (some long enough for the 7-day bonus)."""
    now = timezone.now()
    for member in members:
        for back in range(rng.randint(1, CHECKIN_DAYS) - 1, -1, -1):
            checkin.check_in(actor, member, at=now - dt.timedelta(days=back))


def _events(actor: Actor, members: list[Member], rng: random.Random) -> None:
    stores = {s.code: s for s in Store.objects.filter(merchant=actor.merchant)}
    today = checkin.local_today(actor.merchant)
    for code, name, days, hour, place, store, capacity, tiers, text in DEMO_EVENTS:
        day = today + dt.timedelta(days=days)
        starts = dt.datetime(day.year, day.month, day.day, hour)  # naive: the merchant's zone
        data = events_service.EventInput(
            name=name,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            place=place,
            capacity=capacity,
            store=stores[store].code,
            tiers=tiers,
            description=text,
        )
        event = events_service.create_event(actor, code, data)
        allowed = [m for m in members if events_service.may_join(event, m)]
        for member in rng.sample(allowed, min(SIGNUPS, len(allowed))):
            try:
                events_service.sign_up(actor, event, member)
            except DomainError:  # a frozen member: the demo signs up the others
                continue
