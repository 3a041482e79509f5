"""What the card page /m/ shows a member about themself: the card they hold and its face, the
tier with its benefits and progress, points and their next expiry, stored value, live coupons.

Reads only, through the selectors and the words the console already uses for the same things
(cards.tier_views for tiers, promotions.describe for coupons, the ledger for balances)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from patron.cards import selectors as card_selectors
from patron.cards import tiers
from patron.cards.models import Card, CardStatus
from patron.cards.tier_views import benefits, figure, progress_lines
from patron.engine import tiers as tier_rules
from patron.ledger import selectors as ledger
from patron.members.models import Member
from patron.program.selectors import category_names
from patron.promotions import selectors as promotion_selectors
from patron.promotions.codes import display_code
from patron.promotions.describe import describe_benefit, describe_condition
from patron.promotions.models import Coupon
from patron.promotions.views import named, program_names, sku_names
from patron.tenancy.actor import Actor

COUPONS_SHOWN = 30
CARD_NO_GROUP = 4


@dataclass(frozen=True)
class CardFace:
    card: Card
    product_name: str
    colour: str  # "#RRGGBB" of the product's face, "" for the default face
    has_image: bool

    @property
    def number_spaced(self) -> str:
        """6201 2345 67: the card number in groups, as printed on a card."""
        no = self.card.card_no
        return " ".join(no[at : at + CARD_NO_GROUP] for at in range(0, len(no), CARD_NO_GROUP))

    @property
    def is_lost(self) -> bool:
        return self.card.status == CardStatus.LOST


@dataclass(frozen=True)
class TierView:
    name: str
    benefits: dict[str, Any]
    progress: list[str]  # one sentence per condition of the next tier
    at_top: bool
    bar_value: int = 0  # what the member has of the next tier's first added-up condition …
    bar_max: int = 0  # … and what it takes (0: no bar)
    bar_label: str = ""  # the same in words, "¥258 / ¥1,000", for browsers without <progress>


@dataclass(frozen=True)
class PointsView:
    available: int
    pending: int
    next_expiry_points: int = 0
    next_expiry_on: dt.date | None = None

    @property
    def expiry_this_year(self) -> bool:
        """Whether the page may say "12月31日" without the year (today in the active zone)."""
        on = self.next_expiry_on
        return on is not None and on.year == timezone.localdate().year


@dataclass(frozen=True)
class CouponView:
    name: str
    code: str
    benefit: str
    condition: str
    last_day: dt.date  # the last day it works, in the merchant's zone


@dataclass(frozen=True)
class CardPage:
    face: CardFace
    tier: TierView | None
    points: PointsView
    principal: int
    bonus: int
    coupons: list[CouponView] = field(default_factory=list)


def card_page(actor: Actor, member: Member) -> CardPage:
    balances = ledger.member_balances(member)
    return CardPage(
        face=card_face(member),
        tier=tier_view(actor, member),
        points=points_view(balances, ZoneInfo(member.merchant.timezone)),
        principal=balances["stored_value"]["principal"],
        bonus=balances["stored_value"]["bonus"],
        coupons=live_coupons(actor, member),
    )


def held_card(member: Member) -> Card:
    """The card the member holds now (a row, or their number as an implicit card)."""
    return card_selectors.member_cards(member)[0]


def card_face(member: Member) -> CardFace:
    card = held_card(member)
    product = card.product if card.product_id else None
    return CardFace(
        card=card,
        product_name=product.name if product else "",
        colour=product.face_colour if product else "",
        has_image=bool(product and product.face_image),
    )


def tier_view(actor: Actor, member: Member) -> TierView | None:
    """The member's tier in words, and how far the next one is (None: no tiers set up)."""
    found = tiers.merchant_rules(member.merchant_id)
    tier = found.current(member.tier_id)
    if tier is None:
        return None
    progress = tiers.progress(member) if len(found.tiers) > 1 else tiers.Progress(None, {})
    bar_value, bar_max, bar_label = progress_bar(progress)
    return TierView(
        name=tier.name,
        benefits=benefits(tier, category_names(actor.merchant)),
        progress=progress_lines(progress),
        at_top=tier_rules.next_rule(found.engine, tier.rank) is None,
        bar_value=bar_value,
        bar_max=bar_max,
        bar_label=bar_label,
    )


def progress_bar(progress: tiers.Progress) -> tuple[int, int, str]:
    """(have, need, both in words) of the next tier's first condition that adds up (spend,
    points, visits); a single large purchase or top-up is all or nothing: no bar."""
    if progress.next is None:
        return 0, 0, ""
    for key, gap in progress.missing.items():
        if key in tier_rules.SINGLE_KEYS:
            continue
        need = progress.next.upgrade_when[key]
        return need - gap, need, f"{figure(key, need - gap)} / {figure(key, need)}"
    return 0, 0, ""


def points_view(balances: dict[str, Any], zone: ZoneInfo) -> PointsView:
    """Points now and the first day some of them expire, with how many go that day (the day in
    the merchant's zone: lots expiring at different hours of one day are one sentence)."""
    points = balances["points"]
    expiring = points["expiring"]
    if not expiring:
        return PointsView(points["available"], points["pending"])
    first_day = last_day(expiring[0]["expires_at"], zone)
    going = sum(row["points"] for row in expiring if last_day(row["expires_at"], zone) == first_day)
    return PointsView(points["available"], points["pending"], going, first_day)


def last_day(until: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The last day something good until `until` (exclusive) works: points that expire at
    1 Jan 00:00 are still there all of 31 Dec, and the member is told "12月31日"."""
    return timezone.localtime(until - dt.timedelta(microseconds=1), zone).date()


def live_coupons(actor: Actor, member: Member) -> list[CouponView]:
    """Coupons the member can use now or later, soonest to expire first (used, ended and
    expired ones are history, not something to show at the till)."""
    coupons: list[Coupon] = list(
        promotion_selectors.member_coupons(member, "available").order_by("valid_until", "id")[
            :COUPONS_SHOWN
        ]
    )
    if not coupons:
        return []
    zone = ZoneInfo(member.merchant.timezone)
    names = program_names(actor)
    names["skus"] = sku_names(
        member.merchant,
        [r for c in coupons for r in (c.template.benefit, c.template.condition or {})],
    )
    return [
        CouponView(
            name=coupon.template.name,
            code=display_code(coupon.code),
            benefit=describe_benefit(
                named(coupon.template.benefit, names["categories"], names["skus"])
            ),
            condition=describe_condition(coupon.template.condition or {}, zone, names=names),
            last_day=last_day(coupon.valid_until, zone),
        )
        for coupon in coupons
    ]
