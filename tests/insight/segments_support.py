"""A small fixed set of members for the segment tests, with insight, stats, balances and
facets set directly (the parts that compute them are others'). The clock is fixed at
NOW = 2026-03-10 12:00 in Asia/Shanghai; the expected matches in the tests are worked out by
hand from the table in `build`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from patron.insight.models import MemberFacet, MemberInsight
from patron.ledger.models import Account, Asset, OwnerType
from patron.members.models import CustomField, Member, Tag
from patron.promotions.models import Tier
from patron.sales.models import MemberStats

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=ZONE)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE)


def build(merchant, stores) -> dict[str, Member]:
    """A 30 F, B 29 M (30 tomorrow), C knows nothing, D 45 F; see each block."""
    normal = Tier.objects.create(merchant=merchant, code="normal", name="普通", rank=0)
    gold = Tier.objects.create(merchant=merchant, code="gold", name="金卡", rank=1)
    old = Tier.objects.create(merchant=merchant, code="old", name="旧卡", rank=2, is_active=False)
    assert normal.pk
    vip, new = (Tag.objects.create(merchant=merchant, name=n) for n in ("vip", "new"))
    for position, (key, kind, choices) in enumerate(
        (
            ("size", CustomField.Kind.CHOICE, ["S", "M", "L"]),
            ("height", CustomField.Kind.NUMBER, []),
            ("since", CustomField.Kind.DATE, []),
            ("note", CustomField.Kind.TEXT, []),
        )
    ):
        CustomField.objects.create(
            merchant=merchant, key=key, label=key, kind=kind, choices=choices, position=position
        )
    s1, s2 = stores["S1"], stores["S2"]
    members = {
        "A": member(
            merchant,
            "A",
            gender="F",
            birthday=dt.date(1996, 3, 10),
            region="浙江杭州",
            store=s1,
            joined_at=local(2024, 1, 15, 10),
            source_channel="till",
            consent_sms=True,
            custom={"size": "L", "height": 170, "since": "2020-05-01", "note": "喜欢蓝色"},
        ),
        "B": member(
            merchant,
            "B",
            gender="M",
            birthday=dt.date(1996, 3, 11),
            region="上海",
            tier=gold,
            store=s2,
            joined_at=local(2024, 6, 1, 9),
            source_channel="qr",
            consent_wechat=True,
            custom={"size": "M", "height": 180},
        ),
        "C": member(
            merchant,
            "C",
            gender="U",
            tier=old,
            joined_at=local(2025, 1, 1, 0, 10),
            source_channel="import",
        ),
        "D": member(
            merchant,
            "D",
            gender="F",
            birthday=dt.date(1980, 7, 1),
            region="浙江宁波",
            tier=gold,
            store=s1,
            joined_at=local(2024, 1, 15, 23, 30),
            source_channel="till",
            consent_email=True,
            custom={"size": "L", "note": "老客户"},
        ),
    }
    a, b, d = members["A"], members["B"], members["D"]
    a.tags.add(vip)
    b.tags.add(vip, new)
    d.tags.add(new)
    insight(a, lifecycle="active", rfm="555", r=5, f=5, m=5, p_alive=0.9, spend=50000, visits=10)
    insight(b, lifecycle="dormant", rfm="111", r=1, f=1, m=1, p_alive=0.1, spend=0, visits=0)
    insight(d, lifecycle="inert", rfm="345", r=3, f=4, m=5, p_alive=None, spend=120000, visits=3)
    stats(a, last=local(2026, 3, 7, 10), average=5000)
    stats(b, last=NOW - dt.timedelta(days=400), average=2000)
    stats(d, last=local(2026, 2, 8, 0, 30), average=40000)  # 30 local days; 7 Feb in UTC
    account(a, Asset.POINTS, 1200)
    account(a, Asset.PRINCIPAL, 10000)
    account(a, Asset.BONUS, 500)
    account(b, Asset.POINTS, 0)
    account(b, Asset.PRINCIPAL, 0)
    account(d, Asset.POINTS, 50)
    account(d, Asset.PRINCIPAL, 300)
    facet(a, "category", "shoes")
    facet(a, "size", "42")
    facet(b, "category", "bags")
    facet(b, "colour", "red")
    facet(d, "sku", "SKU1")
    facet(d, "size", "40")
    return members


def member(merchant, name: str, **fields) -> Member:
    number = {"A": 1, "B": 2, "C": 3, "D": 4, "X": 9}[name]
    return Member.objects.create(
        merchant=merchant,
        name=name,
        card_no=f"C{number:04d}",
        mobile=f"1380013800{number}",
        referral_code=f"REF{number}",
        **fields,
    )


def insight(who: Member, *, lifecycle, rfm, r, f, m, p_alive, spend, visits) -> None:
    MemberInsight.objects.create(
        member=who,
        merchant=who.merchant,
        lifecycle=lifecycle,
        rfm=rfm,
        r=r,
        f=f,
        m=m,
        p_alive=p_alive,
        spend_12m=spend,
        visits_12m=visits,
        computed_at=NOW,
    )


def stats(who: Member, *, last: dt.datetime, average: int) -> None:
    MemberStats.objects.create(
        member=who,
        merchant=who.merchant,
        visits=5,
        total_spend=average * 5,
        first_visit_at=last - dt.timedelta(days=700),
        last_visit_at=last,
        average_ticket=average,
    )


def account(who: Member, asset: str, balance: int) -> None:
    Account.objects.create(
        merchant=who.merchant,
        asset=asset,
        owner_type=OwnerType.MEMBER,
        member=who,
        balance=balance,
    )


def facet(who: Member, kind: str, value: str) -> None:
    MemberFacet.objects.create(
        member=who,
        merchant=who.merchant,
        kind=kind,
        value=value,
        visits=1,
        quantity=1,
        spend=100,
        first_at=NOW - dt.timedelta(days=10),
        last_at=NOW - dt.timedelta(days=10),
    )
