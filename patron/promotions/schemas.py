from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictInt


class CouponIn(Schema):
    model_config = ConfigDict(extra="forbid")
    template: str = Field(..., min_length=1, max_length=32, description="Coupon template code")


class CouponOut(Schema):
    code: str = Field(..., description="What the member shows at the till (12 characters)")
    template: str
    name: str
    member: int
    status: Literal["available", "expired", "used", "ended"]
    valid_from: dt.datetime
    valid_until: dt.datetime = Field(..., description="Exclusive")
    issued_at: dt.datetime
    used_at: dt.datetime | None = None


class CouponFilters(Schema):
    status: Literal["", "available", "expired", "used", "ended"] = ""


class TierIn(Schema):
    model_config = ConfigDict(extra="forbid")
    tier: str = Field(..., min_length=1, max_length=32, description="Tier code")
    reason: str = Field("", max_length=200)


class MemberTierOut(Schema):
    member: int
    tier: str | None
    name: str | None
    rank: int | None


class PromotionOut(Schema):
    code: str
    name: str
    owner: str | None = Field(None, description="The store (code) that runs it; null: HQ")
    kind: str
    members_only: bool
    condition: dict[str, Any]
    benefit: dict[str, Any]
    stacking: str
    priority: int
    description: str


class CouponTemplateOut(Schema):
    code: str
    name: str
    owner: str | None = Field(None, description="The store (code) that runs it; null: HQ")
    condition: dict[str, Any]
    benefit: dict[str, Any]
    stacking: str
    priority: int
    valid_days: StrictInt | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    per_member_limit: StrictInt | None
    stock: StrictInt | None
    issued: StrictInt
    remaining: StrictInt | None
    description: str
