"""The demo merchant: a 3-store chain with HQ and store staff and Chinese members (Faker zh_CN).

Later capabilities add their parts here (tiers, promotions, sales history) so `make run` always
shows a merchant that looks like a real one.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from patron.cards import memberships as cards_memberships
from patron.cards import tiers
from patron.cards.models import CardPayment, Membership
from patron.demo import history
from patron.demo.activities import seed_activities
from patron.demo.campaigns import seed_campaigns
from patron.demo.catalogue import seed_catalogue
from patron.demo.data import (
    DEMO_PASSWORD,
    DEMO_PIN,
    DEMO_PIN_MEMBERS,
    DEMO_PROGRAM,
    DEMO_SLUG,
    DEMO_SVIP_BOUGHT_DAYS_AGO,
    OCCUPATIONS,
    PIN_REQUIRED_ABOVE,
    REGION_WEIGHTS,
    REGIONS,
    STAFF,
    TAGS,
)
from patron.demo.feedback import seed_feedback
from patron.demo.network import seed_network
from patron.demo.selectors import demo_exists
from patron.insight.refresh import refresh
from patron.ledger import services as ledger
from patron.ledger.services import quick_balances
from patron.members.models import Channel, CustomField, Gender, Member
from patron.members.services import bulk_register, define_custom_field
from patron.members.validation import Invalid, normalize_mobile
from patron.program.services import apply_program
from patron.promotions import services as promotions
from patron.promotions.models import TierChange
from patron.sales import services as sales
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Role, Staff, Store
from patron.tenancy.services import create_merchant, create_staff

HISTORY_MINUTES = history.HISTORY_DAYS * 24 * 60


@dataclass
class DemoResult:
    merchant: Merchant
    created: bool
    members: int


def unique_mobiles(fake: Faker, count: int, taken: set[str]) -> list[str]:
    mobiles: list[str] = []
    while len(mobiles) < count:
        try:
            mobile = normalize_mobile(fake.phone_number())
        except Invalid:
            continue
        if mobile not in taken:
            taken.add(mobile)
            mobiles.append(mobile)
    return mobiles


def name_for(fake: Faker, rng: random.Random, gender: str) -> str:
    """A family name and a given name of the member's gender. (Faker zh_CN's name_male() and
    name_female() draw the given name from both lists: its one name format ignores gender.)"""
    if gender == Gender.UNKNOWN:
        gender = rng.choice([Gender.MALE, Gender.FEMALE])
    given = fake.first_name_male() if gender == Gender.MALE else fake.first_name_female()
    return fake.last_name() + given


def region_for(rng: random.Random) -> str:
    """A province and one of its own cities, e.g. 浙江省杭州市 (a municipality once: 上海市)."""
    provinces = list(REGIONS)
    rest = (100 - sum(REGION_WEIGHTS.values())) / (len(provinces) - len(REGION_WEIGHTS))
    province = rng.choices(provinces, [REGION_WEIGHTS.get(p, rest) for p in provinces])[0]
    city = rng.choice(REGIONS[province])
    return province if city == province else province + city


def fake_member_rows(
    merchant: Merchant, stores: list[Store], count: int, seed: int = 7
) -> list[dict]:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    taken = set(Member.objects.filter(merchant=merchant).values_list("mobile", flat=True))
    now = timezone.now()
    rows = []
    for mobile in unique_mobiles(fake, count, taken):
        gender = rng.choice([Gender.MALE, Gender.FEMALE, Gender.FEMALE, Gender.UNKNOWN])
        rows.append(
            {
                "mobile": mobile,
                "name": name_for(fake, rng, gender),
                "gender": gender,
                "birthday": fake.date_of_birth(minimum_age=18, maximum_age=70),
                "region": region_for(rng),
                "occupation": rng.choice(OCCUPATIONS),
                "income_band": rng.choice(["", "low", "middle", "middle", "high", "top"]),
                "consent_sms": rng.random() < 0.7,
                "consent_wechat": rng.random() < 0.5,
                "consent_email": rng.random() < 0.2,
                "source_channel": rng.choice([Channel.TILL, Channel.TILL, Channel.QR, Channel.H5]),
                "store": rng.choice(stores),
                "tags": rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2])),
                "custom": {"clothing_size": rng.choice(["S", "M", "L", "XL"])}
                if rng.random() < 0.4
                else {},
                # Spread over the demo's 18 months of history, with a few joining today.
                "joined_at": now - dt.timedelta(minutes=rng.randint(0, HISTORY_MINUTES))
                if rng.random() > 0.01
                else now,
            }
        )
    return rows


@transaction.atomic
def create_demo(members: int = 2000) -> DemoResult:
    if demo_exists():
        merchant = Merchant.objects.get(slug=DEMO_SLUG)
        return DemoResult(merchant, False, Member.objects.filter(merchant=merchant).count())
    merchant = create_merchant(DEMO_SLUG, "杭州湖畔酒店餐饮连锁")
    actor = Actor.system(merchant)
    apply_program(actor, DEMO_PROGRAM)
    stores = {s.code: s for s in Store.objects.filter(merchant=merchant)}
    for username, role, store_code, full_name in STAFF:
        create_staff(actor, username, DEMO_PASSWORD, role, stores.get(store_code), full_name)
    define_custom_field(
        actor, "clothing_size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M", "L", "XL"]
    )
    define_custom_field(actor, "favourite_colour", "喜欢的颜色", CustomField.Kind.TEXT)
    define_custom_field(actor, "blood_type", "血型", CustomField.Kind.CHOICE, ["A", "B", "AB", "O"])
    seed_catalogue(actor)  # before the sales: their lines name these products
    rows = fake_member_rows(merchant, list(stores.values()), members)
    created = bulk_register(actor, rows, channel=Channel.TILL)
    seed_balances(actor, created)
    seed_tiers_and_coupons(actor, created)
    seed_memberships(actor, created)
    seed_sales(actor, created)
    review_tiers(merchant)
    seed_feedback(actor, created)
    refresh(merchant, timezone.now())  # lifecycle, RFM and value of the history just made
    seed_campaigns(merchant)  # after the lifecycle: the campaigns' audiences use it
    # After the sales: today's offers do not price the history.
    cashiers = {code: crew.cashier for code, crew in store_crews(actor).items()}
    seed_activities(actor, created, cashiers)
    seed_network(actor, cashiers, created)  # last: its months' figures come after the history
    return DemoResult(merchant, True, members)


def review_tiers(merchant: Merchant) -> None:
    """After a year of history, members sit in the tiers it earns (as the nightly review
    would put them): the sales moved some already, top-ups seeded straight into the ledger
    and older figures move the rest."""
    tiers.review(merchant)


def seed_balances(actor: Actor, members: list[Member], seed: int = 11) -> None:
    """About a third of the members top up once and earn points over the past year, some of
    them spending part of it, so balances, lots and liabilities show real figures."""

    rng = random.Random(seed)
    now = timezone.now()
    # Below gold's single top-up of 1,000 yuan: these top-ups are stamped when the demo is
    # built, after the back-dated sales, so one that moved a tier would move it at a moment
    # the replay of the history (what if) cannot place before the sales it priced.
    amounts = [10000, 20000, 50000, 80000]
    for member in members:
        if rng.random() > 0.33:
            continue
        when = max(member.joined_at, now - dt.timedelta(days=rng.randint(1, 360)))
        context = ledger.Context(store=member.store, occurred_at=when)
        ledger.top_up(
            actor,
            member,
            rng.choice(amounts),
            key=f"demo-topup-{member.pk}",
            payment_method=rng.choice(["cash", "wechat", "alipay"]),
            context=context,
        )
        ledger.earn_points(  # what about a year of visits earns at 1 point per yuan
            actor, member, rng.randint(100, 3000), key=f"demo-earn-{member.pk}", context=context
        )
        if rng.random() < 0.4:
            ledger.pay_stored_value(
                actor,
                member,
                rng.randint(1000, 9000),
                key=f"demo-pay-{member.pk}",
                context=ledger.Context(store=member.store),
            )


def seed_tiers_and_coupons(actor: Actor, members: list[Member], seed: int = 13) -> None:
    """Tiers are earned by the history (`review_tiers`); about one member in six holds a
    coupon, so member pages and the promotions overview show real rows."""

    rng = random.Random(seed)
    for member in members:
        rng.random()  # was the draw of a hand-set tier: tiers are earned now (review_tiers)
        if rng.random() < 0.17:
            template = rng.choice(["room_night", "dish50", "dish50", "tea_gift"])
            promotions.issue_coupon(actor, member, template, key=f"demo-coupon-{member.pk}")


@dataclass(frozen=True)
class StoreCrew:
    """Who works a demo store's counter: its cashier sells, its manager refunds (a manager
    needs no approval above the store's refund limit)."""

    cashier: Actor
    manager: Actor


def store_crews(actor: Actor) -> dict[str, StoreCrew]:
    staff = Staff.objects.filter(merchant=actor.merchant, is_active=True).select_related(
        "store", "user"
    )
    by_store: dict[str, dict[str, Actor]] = {}
    for member in staff:
        if member.store is not None:
            crew = by_store.setdefault(member.store.code, {})
            crew[member.role] = Actor(merchant=actor.merchant, staff=member, channel="console")
    return {
        code: StoreCrew(cashier=crew[Role.CASHIER], manager=crew[Role.STORE_MANAGER])
        for code, crew in by_store.items()
    }


def _sell(
    crews: dict[str, StoreCrew],
    rng: random.Random,
    request: sales.SaleRequest,
    key: str,
    now: dt.datetime,
) -> None:
    """Commit one demo sale as the store's cashier; a few of the last two days' sales are
    refunded by its manager (a refund is recorded when it is made, so only recent sales are
    refunded: the home page's history stays as it was sold)."""
    crew = crews[request.store]
    sale = sales.commit_sale(crew.cashier, request, key=key)
    if sale.occurred_at >= now - dt.timedelta(days=2) and rng.random() < 0.05:
        sales.refund_sale(
            crew.manager,
            sale,
            sales.RefundAsk(all=True, reason="demo"),
            key=f"demo-refund-{sale.pk}",
        )


def seed_sales(actor: Actor, members: list[Member], seed: int = 17) -> None:
    """Eighteen months of visits with real repeat habits (`demo.history`): the older ones
    stored as imported history in bulk, the last CHECKOUT_DAYS rung up through the real
    checkout service, where some members redeem points or pay from stored value and a few
    recent sales are refunded; walk-in guests buy too (so members' share of sales means
    something). The demo back-dates through the `checkout.backdate_days` setting, as a till
    uploading late sales would, then restores the usual 30 days and a PIN threshold."""

    rng = random.Random(seed)
    apply_program(actor, {"checkout": {"backdate_days": history.CHECKOUT_DAYS + 1}})
    stores = list(Store.objects.filter(merchant=actor.merchant).order_by("code"))
    now = timezone.now()
    crews = store_crews(actor)
    visits = history.plan_visits(actor.merchant, members, stores, walk_ins=len(members))
    recent = now - dt.timedelta(days=history.CHECKOUT_DAYS)
    history.import_history(actor.merchant, [v for v in visits if v.occurred_at < recent])
    for n, visit in enumerate(v for v in visits if v.occurred_at >= recent):
        request = sales.SaleRequest(
            lines=visit.lines, store=visit.store.code, occurred_at=visit.occurred_at
        )
        key = f"demo-walk-in-{n}"
        if visit.member is not None:
            request.member = visit.member.pk
            redeems, pays = rng.random() < 0.2, rng.random() < 0.3
            held = quick_balances(visit.member) if redeems or pays else {}
            if redeems:
                request.points_to_redeem = held["points"]
            if pays:
                request.stored_value = min(
                    held["stored_value.principal"] + held["stored_value.bonus"], 20000
                )
            key = f"demo-sale-{visit.member.pk}-{n}"
        _sell(crews, rng, request, key, now)
    apply_program(
        actor, {"checkout": {"backdate_days": 30, "pin_required_above": PIN_REQUIRED_ABOVE}}
    )
    as_if_recorded_when_sold(actor)
    seed_pins(actor, members)


def as_if_recorded_when_sold(actor: Actor) -> None:
    """A year of history uploaded in one go would all count in today's shift (a shift counts
    what was recorded during it): the demo's sales are dated as if each had been rung up
    when it happened, so today's 交班 shows today's sales only."""
    Sale.objects.filter(merchant=actor.merchant).update(created_at=F("occurred_at"))


def seed_memberships(actor: Actor, members: list[Member]) -> None:
    """A few members with a paid 年卡SVIP bought some time ago (DEMO_SVIP_BOUGHT_DAYS_AGO), so
    the memberships list and member pages show periods with different days left."""
    for index, days_ago in enumerate(DEMO_SVIP_BOUGHT_DAYS_AGO):
        position = len(members) - 1 - index * 7  # spread over the last members
        if position < 0:  # a small demo (`--members 20`) has fewer SVIPs
            break
        member = members[position]
        bought = cards_memberships.buy_membership(
            actor, member, "svip", method="wechat", key=f"demo-svip-{member.pk}"
        )
        back = dt.timedelta(days=days_ago)
        Membership.objects.filter(pk=bought.pk).update(
            valid_from=F("valid_from") - back, valid_until=F("valid_until") - back
        )
        CardPayment.objects.filter(membership=bought).update(created_at=F("created_at") - back)
        TierChange.objects.filter(member=member, reason=TierChange.Reason.PAID).update(
            created_at=F("created_at") - back
        )


def seed_pins(actor: Actor, members: list[Member]) -> None:
    """DEMO_PIN for the first DEMO_PIN_MEMBERS members who hold more stored value than a payment
    may take without a PIN, so the PIN flow can be tried at once (argon2 on purpose: a 6-digit
    PIN must be slow to guess)."""
    given = 0
    for member in members:
        if given == DEMO_PIN_MEMBERS:
            break
        held = quick_balances(member)
        if held["stored_value.principal"] + held["stored_value.bonus"] > PIN_REQUIRED_ABOVE:
            sales.set_pin(actor, member, DEMO_PIN, allow_one_digit_repeated=True)
            given += 1
