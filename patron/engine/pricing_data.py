"""The pricing engine's values: what `quote` takes and what it returns (API.md §4).

Plain frozen dataclasses and the stable reason strings, in a module of their own so that they
stay ordinary Python classes when `patron.engine.pricing` is compiled (see
patron/engine/native.py): callers build, compare, copy, weak-reference and subclass them as
before, and the compiled and the pure-Python engine take and return the very same classes.
`patron.engine.pricing` re-exports every name here; import them from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from patron.engine.points import EarnRule

PromotionKind = Literal["automatic", "code", "coupon"]
Stacking = Literal["stackable", "exclusive"]
BENEFIT_TYPES = (
    "percent",
    "fixed",
    "fixed_price",
    "free_items",
    "cheapest_percent",
    "gift",
    "points_multiplier",
    "free_shipping",
)
SHIPPING_CATEGORY = "shipping"

# Why a code on the sale did not apply (stable strings: the API returns them).
UNKNOWN_CODE = "unknown_code"
COUPON_USED = "coupon_used"
COUPON_EXPIRED = "coupon_expired"
COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
COUPON_OTHER_MEMBER = "coupon_other_member"
MEMBERS_ONLY = "members_only"
CONDITION_NOT_MET = "condition_not_met"
NOT_COMBINABLE = "not_combinable"
DUPLICATE_CODE = "duplicate_code"
NO_DISCOUNT = "no_discount"
# Why a limited promotion did not apply (API.md §11): its `total` is used up, or this member's.
SOLD_OUT = "sold_out"
LIMIT_REACHED = "limit_reached"


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    quantity: int
    unit_price: int
    member_price: int | None = None  # the POS's own member price for this SKU, if any


@dataclass(frozen=True)
class Basket:
    store: str
    lines: tuple[Line, ...]
    codes: tuple[str, ...] = ()
    points_to_redeem: int = 0
    stored_value: int = 0


@dataclass(frozen=True)
class Condition:
    """All given parts must hold (API.md §4)."""

    min_amount: int | None = None
    min_quantity: int | None = None
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 1 = Monday ... 7 = Sunday, merchant's zone
    stores: frozenset[str] = frozenset()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None  # exclusive
    first_purchase: bool = False


@dataclass(frozen=True)
class Benefit:
    type: str
    value: int = 0  # percent, fen, fen per unit, or multiplier percent (200 = 2x)
    buy: int = 0
    get: int = 0
    quantity: int = 0  # free_items without buy/get: this many units free; gift: units given
    sku: str = ""  # gift
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    max_discount: int | None = None


@dataclass(frozen=True)
class Limits:
    """How many applications of a promotion committed sales may hold (API.md §11): in all, per
    member, per member per day (the merchant's zone). None: no such limit.

    One application is one unit the promotion priced when its benefit names SKUs or
    categories (`fixed_price` on TEA-LJ x 2: 2), else one per sale (a whole-order benefit)."""

    total: int | None = None
    per_member: int | None = None
    per_member_per_day: int | None = None

    @property
    def per_member_limited(self) -> bool:
        return self.per_member is not None or self.per_member_per_day is not None


@dataclass(frozen=True)
class LimitUsage:
    """What a limited promotion's committed sales hold now: all of them (`sold`), this member's
    (`member`), and this member's on the sale's day in the merchant's zone (`member_today`)."""

    sold: int = 0
    member: int = 0
    member_today: int = 0


@dataclass(frozen=True)
class Promotion:
    code: str
    kind: PromotionKind
    benefit: Benefit
    condition: Condition = Condition()
    name: str = ""
    stacking: Stacking = "stackable"
    priority: int = 100
    members_only: bool = False
    limits: Limits | None = None


@dataclass(frozen=True)
class Coupon:
    """One issued coupon named by a code on the sale, as the database sees it right now."""

    code: str
    promotion: Promotion  # built from the coupon template
    member_id: str | None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None  # exclusive
    used: bool = False


@dataclass(frozen=True)
class Tier:
    code: str
    rank: int = 0
    discount: Mapping[str, int] = field(default_factory=dict)  # category -> percent of price
    points_multiplier_percent: int = 100


@dataclass(frozen=True)
class RedeemRule:
    """`points` points pay `value` fen, at most `max_share_percent` of what is left to pay."""

    points: int = 100
    value: int = 100
    max_share_percent: int = 100


@dataclass(frozen=True)
class MemberContext:
    member_id: str | None = None  # None: a walk-in customer
    tier: str | None = None  # None: the lowest-ranked tier
    points_available: int = 0
    stored_value: int = 0
    first_purchase: bool = False
    coupons: Mapping[str, Coupon] = field(default_factory=dict)  # the sale's codes found
    # Limited promotions' use so far, by promotion code (absent: nothing used yet).
    usage: Mapping[str, LimitUsage] = field(default_factory=dict)


@dataclass(frozen=True)
class Program:
    timezone: str = "Asia/Shanghai"
    tiers: tuple[Tier, ...] = ()
    promotions: tuple[Promotion, ...] = ()  # automatic and code promotions
    earn: EarnRule | None = None
    earn_exclude_categories: frozenset[str] = frozenset()
    redeem: RedeemRule | None = None


# --- output ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    sku: str
    category: str
    quantity: int
    unit_price: int
    member_price: int  # per unit after the member price / tier discount
    discount: int  # member price + promotions + coupons, in fen, for the whole line
    points_offset: int  # fen paid with points on this line
    total: int  # quantity * unit_price - discount - points_offset
    points_earned: int = 0
    gift: bool = False


@dataclass(frozen=True)
class Applied:
    code: str
    kind: PromotionKind
    name: str
    amount: int  # fen off (0 for gifts and points multipliers)
    benefit: str = ""
    applications: int = 0  # what it counts against its `limits` (0 when it has none)


@dataclass(frozen=True)
class Rejected:
    code: str
    reason: str


@dataclass(frozen=True)
class Quote:
    subtotal: int
    member_discount: int
    discount: int  # member_discount + every applied amount
    total: int  # subtotal - discount - points_value
    lines: tuple[PricedLine, ...]
    applied: tuple[Applied, ...]
    rejected: tuple[Rejected, ...]
    points_redeemed: int
    points_value: int
    points_earned: int
    stored_value_paid: int
    cash_due: int  # total - stored_value_paid
    saved: int  # subtotal - total: member prices, promotions, coupons and points
    insufficient_points: bool = False  # asked to redeem more than the member holds
    insufficient_stored_value: bool = False
