"""The demo's network (issue 20, docs/network.md): HQ's limits for store activities and one
store-owned coupon; last month and this month the store staff recruit members, sell cards and
take top-ups that are then spent at another store (so the settlement between stores and the
commission leaderboard show figures); and a partner, the café `demo-cafe`, with an active
points alliance and a few exchanges. Everything goes through the services; only the dates of
last month's recruits and cards are moved back, as the demo does for its SVIP periods."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence

from django.utils import timezone

from patron.cards import services as cards
from patron.cards.models import Card
from patron.demo.data import (
    CAFE_NAME,
    CAFE_PROGRAM,
    CAFE_SLUG,
    CAFE_STAFF,
    DEMO_PASSWORD,
    DEMO_PROGRAM,
)
from patron.ledger import services as ledger
from patron.ledger.services import quick_balances
from patron.members.models import Channel, Member
from patron.members.services import register_member
from patron.network import alliance_services as alliances
from patron.program.services import apply_program
from patron.promotions import services as promotions
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.services import create_merchant, create_staff
from patron.wallet import services as wallet

# What HQ lets its store managers run (docs/promotions.md), and S2's own coupon.
STORE_ACTIVITIES = {
    "allowed": True,
    "benefit_types": ["percent", "fixed"],
    "max_percent_off": 20,
    "max_amount_off": 5000,
    "coupons": True,
    "campaigns": True,
    "max_live": 5,
}
STORE_COUPON = {
    "code": "s2_tea",
    "name": "滨江店下午茶 8 折券",
    "owner": "S2",
    "benefit": {"type": "percent", "value": 20, "categories": ["drinks"]},
    "valid_days": 30,
    "per_member_limit": 1,
}
STORE_COUPON_HOLDERS = 12
# (store code, recruits last month, recruits this month): the ladder pays at 3 and 6.
RECRUITS = [("S1", 4, 6), ("S2", 6, 3), ("S3", 2, 4)]
TOPUPS = [50000, 100000, 50000, 20000]  # per recruit in turn; 500 yuan earns 8 yuan
CAFE_MEMBERS = 6  # the first of them are hotel members too (the same mobile)
FAMILY = "王李张刘陈杨赵黄周吴"
GIVEN = "晓雨子文静嘉明轩"
EXCHANGES = 5  # hotel members moving 500 points each to the café


def seed_network(actor: Actor, cashiers: Mapping[str, Actor], members: Sequence[Member]) -> None:
    """`cashiers`: each store's cashier by store code; `members`: the demo's members."""
    apply_program(
        actor,
        {
            "store_activities": STORE_ACTIVITIES,
            "coupon_templates": [*DEMO_PROGRAM["coupon_templates"], STORE_COUPON],
        },
    )
    rng = random.Random(23)
    for member in rng.sample(list(members), min(STORE_COUPON_HOLDERS, len(members))):
        promotions.issue_coupon(actor, member, STORE_COUPON["code"], key=f"demo-s2tea-{member.pk}")
    _staff_months(actor, cashiers, rng)
    _partner(actor, members)


def _months(
    merchant: Merchant,
) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]:
    """(start, end) of last month and of this month so far, in the merchant's zone."""
    now = timezone.now()
    start = timezone.localtime(now, merchant_zone(merchant.timezone)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    previous = (start - dt.timedelta(days=1)).replace(day=1)
    return (previous, start), (start, now - dt.timedelta(minutes=1))


def _staff_months(actor: Actor, cashiers: Mapping[str, Actor], rng: random.Random) -> None:
    """Each store's cashier recruits members, sells the first of them a card and takes their
    top-ups; each recruit then spends part of it at another store: that store is owed."""
    codes = [code for code, _, _ in RECRUITS]
    last, this = _months(actor.merchant)
    for code, *counts in RECRUITS:
        cashier = cashiers[code]
        for (start, end), count in zip((last, this), counts, strict=True):
            for n in range(count):
                when = start + (end - start) * rng.uniform(0.05, 0.6)
                member = _recruit(cashier, code, when, first=n == 0, rng=rng)
                amount = TOPUPS[n % len(TOPUPS)]
                context = ledger.Context(store=cashier.store, occurred_at=when)
                key = f"demo-net-topup-{member.pk}"
                wallet.top_up(cashier, member, amount, key=key, context=context)
                elsewhere = rng.choice([c for c in codes if c != code])
                spent_at = when + (end - when) * rng.uniform(0.2, 0.9)
                ledger.pay_stored_value(
                    cashiers[elsewhere],
                    member,
                    rng.randint(amount // 5, amount // 2) // 100 * 100,
                    key=f"demo-net-pay-{member.pk}",
                    context=ledger.Context(store=cashiers[elsewhere].store, occurred_at=spent_at),
                )


def _recruit(
    cashier: Actor, code: str, when: dt.datetime, *, first: bool, rng: random.Random
) -> Member:
    """A member registered by `cashier` at their store (joining at `when`), with a card sold
    to the first of each month's recruits."""
    mobile = f"139{rng.randint(0, 99_999_999):08d}"
    while Member.objects.filter(merchant=cashier.merchant, mobile=mobile).exists():
        mobile = f"139{rng.randint(0, 99_999_999):08d}"
    name = rng.choice(FAMILY) + rng.choice(GIVEN) + rng.choice(GIVEN)
    member = register_member(
        cashier, {"mobile": mobile, "name": name, "store": code}, channel=Channel.TILL
    )
    Member.objects.filter(pk=member.pk).update(joined_at=when)
    if first:
        card = cards.issue_card(
            cashier,
            member,
            cards.IssueRequest(product="std", payment_method="wechat", store=cashier.store),
            key=f"demo-net-card-{member.pk}",
        )
        Card.objects.filter(pk=card.pk).update(issued_at=when)
    member.refresh_from_db()
    return member


def _partner(actor: Actor, members: Sequence[Member]) -> None:
    """The café with its own members (some of them hotel members too), an alliance proposed
    by the hotel at 100 hotel points = 80 café points, accepted, and a few exchanges."""
    cafe = create_merchant(CAFE_SLUG, CAFE_NAME)
    owner = Actor.system(cafe)
    apply_program(owner, CAFE_PROGRAM)
    store = Store.objects.get(merchant=cafe, code="C1")
    for username, role, store_code, full_name in CAFE_STAFF:
        create_staff(owner, username, DEMO_PASSWORD, role, store if store_code else None, full_name)
    with_points = [m for m in members if quick_balances(m)["points"] >= 1000]
    for member in with_points[: CAFE_MEMBERS // 2]:
        register_member(owner, {"mobile": member.mobile, "name": member.name, "store": "C1"})
    for n in range(CAFE_MEMBERS - CAFE_MEMBERS // 2):
        register_member(
            owner, {"mobile": f"1570000{n:04d}", "name": f"咖啡客{n + 1}", "store": "C1"}
        )
    alliance = alliances.propose(actor, CAFE_SLUG, 100, 80)
    alliances.act(owner, alliance, "accept")
    for member in with_points[:EXCHANGES]:
        alliances.exchange(actor, alliance, member, 500, key=f"demo-ally-{member.pk}")
