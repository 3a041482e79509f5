from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict


class Consent(Schema):
    # Forbidding extras also makes ninja check the type first: without it a string or a
    # number is read attribute by attribute and accepted as an empty object.
    model_config = ConfigDict(extra="forbid")

    sms: bool | None = None
    wechat: bool | None = None
    email: bool | None = None


class MemberPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not a no-op
    mobile: str | None = Field(None, max_length=20, description="Mainland mobile, 11 digits")
    name: str | None = Field(None, max_length=50)
    gender: Literal["M", "F", "U"] | None = None
    birthday: dt.date | None = None
    lunar_birthday: str | None = Field(None, max_length=5, description="MM-DD, lunar calendar")
    id_number: str | None = Field(None, max_length=18, description="Resident ID (cn.ric)")
    email: str | None = Field(None, max_length=254)
    region: str | None = Field(None, max_length=60)
    address: str | None = Field(None, max_length=200)
    occupation: str | None = Field(None, max_length=60)
    income_band: Literal["", "low", "middle", "high", "top"] | None = None
    tags: list[str] | None = Field(None, max_length=20)
    consent: Consent | None = None
    store: str | None = Field(None, max_length=32, description="Store code")
    custom: dict[str, Any] | None = None


class MemberIn(MemberPatch):
    mobile: str = Field(..., max_length=20, description="Mainland mobile, 11 digits")
    referrer_code: str | None = Field(None, max_length=12)


class ConsentOut(Schema):
    sms: bool
    wechat: bool
    email: bool


class MemberOut(Schema):
    id: int
    card_no: str
    mobile: str = Field(..., description="Masked unless the caller may see personal data")
    mobile_masked: str
    name: str
    gender: str
    birthday: dt.date | None
    lunar_birthday: str | None
    id_number: str | None
    email: str | None
    region: str
    address: str
    occupation: str
    income_band: str | None
    tags: list[str]
    consent: ConsentOut
    source_channel: str
    store: str | None
    referral_code: str
    status: str
    tier: str | None
    custom: dict[str, Any]
    joined_at: dt.datetime
    stats: dict[str, Any] | None = None
    lifecycle: str | None = None


class MemberPage(Schema):
    items: list[MemberOut]
    count: int
    page: int
    page_size: int
