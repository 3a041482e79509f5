"""The demo merchant: a 3-store chain with HQ and store staff and Chinese members (Faker zh_CN).

Later capabilities add their parts here (tiers, promotions, sales history) so `make run` always
shows a merchant that looks like a real one.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from faker import Faker

from patron.members.models import Channel, CustomField, Gender, Member
from patron.members.services import bulk_register, define_custom_field
from patron.members.validation import Invalid, normalize_mobile
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Role, Store
from patron.tenancy.services import create_merchant, create_staff

DEMO_SLUG = "demo"
DEMO_PASSWORD = "patron-demo"
STORES = [
    {"code": "S1", "name": "西湖店", "address": "杭州市西湖区北山街 1 号"},
    {"code": "S2", "name": "滨江店", "address": "杭州市滨江区江南大道 88 号"},
    {"code": "S3", "name": "城西店", "address": "杭州市西湖区文二西路 66 号"},
]
CATEGORIES = ["rooms", "dishes", "drinks", "retail"]
DEMO_PROGRAM = {
    "stores": STORES,
    "categories": CATEGORIES,
    "points": {
        "earn": {"per_amount": 10000, "points": 1},  # 1 point per 100 yuan paid
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "topup_bonus": [  # top up 100 get 10, 500 get 60, 1000 get 150
        {"min": 10000, "bonus": 1000},
        {"min": 50000, "bonus": 6000},
        {"min": 100000, "bonus": 15000},
    ],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "upgrade_when": {"spend_12m": 100000},
        },
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80, "dishes": 90},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 500000, "single_topup": 100000},
        },
    ],
    "promotions": [
        {
            "code": "tuesday",
            "name": "周二会员日",
            "kind": "automatic",
            "members_only": True,
            "condition": {"weekdays": [2]},
            "benefit": {"type": "percent", "value": 10},
            "priority": 10,
        },
        {
            "code": "drinks3for2",
            "name": "饮品买二送一",
            "kind": "automatic",
            "condition": {"categories": ["drinks"]},
            "benefit": {"type": "free_items", "buy": 2, "get": 1, "categories": ["drinks"]},
            "priority": 20,
        },
        {
            "code": "WELCOME20",
            "name": "新客满 200 减 20",
            "kind": "code",
            "condition": {"min_amount": 20000, "first_purchase": True},
            "benefit": {"type": "fixed", "value": 2000},
            "stacking": "exclusive",
            "priority": 30,
        },
        {
            "code": "gold_points",
            "name": "金卡双倍积分",
            "kind": "automatic",
            "condition": {"tiers": ["gold"]},
            "benefit": {"type": "points_multiplier", "value": 2},
            "priority": 90,
        },
    ],
    "coupon_templates": [
        {
            "code": "room_night",
            "name": "免费房券",
            "benefit": {"type": "free_items", "skus": ["ROOM-STD"], "quantity": 1},
            "valid_days": 90,
            "per_member_limit": 1,
        },
        {
            "code": "dish50",
            "name": "餐饮满 200 减 50",
            "benefit": {"type": "fixed", "value": 5000, "categories": ["dishes"]},
            "condition": {"min_amount": 20000},
            "valid_days": 30,
            "per_member_limit": 3,
            "stock": 5000,
        },
        {
            "code": "tea_gift",
            "name": "生日赠茶",
            "benefit": {"type": "gift", "sku": "TEA-LONGJING"},
            "valid_days": 30,
        },
    ],
}
# (username, role, store code, full name)
STAFF = [
    ("hq", Role.HQ_ADMIN, None, "总部管理员"),
    ("marketer", Role.MARKETER, None, "市场专员"),
    ("s1.manager", Role.STORE_MANAGER, "S1", "西湖店长"),
    ("s1.cashier", Role.CASHIER, "S1", "西湖收银"),
    ("s2.manager", Role.STORE_MANAGER, "S2", "滨江店长"),
    ("s2.cashier", Role.CASHIER, "S2", "滨江收银"),
    ("s3.manager", Role.STORE_MANAGER, "S3", "城西店长"),
    ("s3.cashier", Role.CASHIER, "S3", "城西收银"),
]
TAGS = ["商务", "亲子", "美食家", "高频", "价格敏感", "VIP候选", "外地游客"]
OCCUPATIONS = ["教师", "工程师", "医生", "设计师", "销售", "公务员", "自由职业", "学生", "企业主"]


@dataclass
class DemoResult:
    merchant: Merchant
    created: bool
    members: int


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(user name, password, role, store code) for each demo login."""
    return [
        (username, DEMO_PASSWORD, str(role.label), store or "HQ")
        for username, role, store, _name in STAFF
    ]


def demo_exists() -> bool:
    return Merchant.objects.filter(slug=DEMO_SLUG).exists()


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
        name = fake.name_male() if gender == Gender.MALE else fake.name_female()
        rows.append(
            {
                "mobile": mobile,
                "name": name,
                "gender": gender,
                "birthday": fake.date_of_birth(minimum_age=18, maximum_age=70),
                "region": fake.province() + fake.city_name(),
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
                # Spread over the last 12 months, with a few joining today.
                "joined_at": now - dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
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
    rows = fake_member_rows(merchant, list(stores.values()), members)
    created = bulk_register(actor, rows, channel=Channel.TILL)
    seed_balances(actor, created)
    seed_tiers_and_coupons(actor, created)
    seed_sales(actor, created)
    return DemoResult(merchant, True, members)


def seed_balances(actor: Actor, members: list[Member], seed: int = 11) -> None:
    """About a third of the members top up once and earn points over the past year, some of
    them spending part of it, so balances, lots and liabilities show real figures."""
    from patron.ledger import services as ledger

    rng = random.Random(seed)
    now = timezone.now()
    amounts = [10000, 20000, 50000, 100000]
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
        ledger.earn_points(
            actor, member, rng.randint(5, 300), key=f"demo-earn-{member.pk}", context=context
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
    """About one member in six on silver and one in twenty on gold; about one in six holds a
    coupon, so member pages and the promotions overview show real rows."""
    from patron.promotions import services as promotions

    rng = random.Random(seed)
    for member in members:
        draw = rng.random()
        if draw < 0.05:
            promotions.set_member_tier(actor, member, "gold", reason="demo")
        elif draw < 0.2:
            promotions.set_member_tier(actor, member, "silver", reason="demo")
        if rng.random() < 0.17:
            template = rng.choice(["room_night", "dish50", "dish50", "tea_gift"])
            promotions.issue_coupon(actor, member, template, key=f"demo-coupon-{member.pk}")


# (sku, name, category, unit price in fen, brand)
CATALOGUE = [
    ("ROOM-STD", "湖景标准间", "rooms", 32000, "湖畔"),
    ("ROOM-DLX", "湖景豪华间", "rooms", 52000, "湖畔"),
    ("DISH-FISH", "西湖醋鱼", "dishes", 6800, ""),
    ("DISH-PORK", "东坡肉", "dishes", 5800, ""),
    ("DISH-SHRIMP", "龙井虾仁", "dishes", 8800, ""),
    ("TEA-LONGJING", "明前龙井", "drinks", 3800, "狮峰"),
    ("BEER-LOCAL", "西湖啤酒", "drinks", 1500, "西湖"),
    ("GIFT-TEA", "龙井礼盒", "retail", 16800, "狮峰"),
]
DEMO_PIN = "888888"


def _demo_basket(rng: random.Random):
    from patron.sales.services import LineInput

    picks = rng.sample(CATALOGUE, rng.randint(1, 4))
    return [
        LineInput(
            sku=sku,
            name=name,
            category=category,
            quantity=1 if category in ("rooms", "retail") else rng.randint(1, 3),
            unit_price=price,
            brand=brand,
        )
        for sku, name, category, price, brand in picks
    ]


def seed_sales(actor: Actor, members: list[Member], seed: int = 17) -> None:
    """About 12 months of sales through the real checkout service: a loyal core visits often,
    most members a few times, some once; some redeem points or pay from stored value; a few
    sales are refunded. The demo back-dates through the `checkout.backdate_days` setting, as a
    merchant importing history would, then restores the usual 30 days and a PIN threshold."""
    from patron.ledger.services import quick_balances
    from patron.sales import services as sales

    rng = random.Random(seed)
    apply_program(actor, {"checkout": {"backdate_days": 365}})
    stores = list(Store.objects.filter(merchant=actor.merchant).order_by("code"))
    now = timezone.now()
    buyers = [m for m in members if rng.random() < 0.25]
    for member in buyers:
        visits = rng.choice([1, 1, 2, 2, 3, 5])
        first = max(member.joined_at, now - dt.timedelta(days=364))
        for visit in range(visits):
            span = max((now - first).total_seconds() - 3600, 60)
            when = first + dt.timedelta(seconds=rng.uniform(0, span))
            held = quick_balances(member)
            request = sales.SaleRequest(
                lines=_demo_basket(rng),
                member=member.pk,
                store=(member.store if rng.random() < 0.7 else rng.choice(stores)).code,
                occurred_at=when,
                points_to_redeem=held["points"] if rng.random() < 0.2 else 0,
                stored_value=min(held["stored_value.principal"] + held["stored_value.bonus"], 20000)
                if rng.random() < 0.3
                else 0,
            )
            sale = sales.commit_sale(actor, request, key=f"demo-sale-{member.pk}-{visit}")
            if rng.random() < 0.03:
                sales.refund_sale(
                    actor,
                    sale,
                    sales.RefundAsk(all=True, reason="demo"),
                    key=f"demo-refund-{sale.pk}",
                )
    apply_program(actor, {"checkout": {"backdate_days": 30, "pin_required_above": 50000}})
    for member in buyers[:5]:  # argon2 on purpose: a 6-digit PIN must be slow to guess
        sales.set_pin(actor, member, DEMO_PIN)
