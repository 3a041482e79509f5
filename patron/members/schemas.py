"""The members API's bodies (API.md §3) and the rules the document states for them.

Patterns the server applies to a normalised value (spaces and dashes removed, full-width digits
read as ASCII: patron.members.validation) are given to the document only, in the canonical form
a program sends; pydantic enforcing them would refuse "+86 138-0013-8000", which the API takes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from patron.core.apitypes import StaffName, documented
from patron.members.validation import MAX_TAGS, MOBILE_PATTERN, TAG_LENGTH, TEXT_LIMITS

# Django's EmailValidator, narrowed to the plain dot-atom addresses programs send.
EMAIL_PATTERN = (
    r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,63})?$"
)
# 17 digits and a check digit (0-9 or X); the check digit, the birthplace and the birth date
# are checked too (stdnum.cn.ric), which no pattern can say.
ID_NUMBER_PATTERN = r"^([0-9]{17}[0-9Xx])?$"
LUNAR_PATTERN = r"^((0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|30))?$"
# From 1900 on (clean_date), and not after today, which no pattern can say.
BIRTHDAY_PATTERN = r"^(19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"


MOBILE_DESCRIPTION = (
    "Mainland mobile, 11 digits, optionally after +86 (spaces, dashes and full-width digits "
    "are accepted too); an assigned number"
)


Birthday = Annotated[
    dt.date,
    Field(
        description="From 1900-01-01, not after today",
        json_schema_extra=documented(pattern=BIRTHDAY_PATTERN),
    ),
]
Lunar = Annotated[
    str,
    Field(
        max_length=5,
        description="MM-DD, lunar calendar",
        json_schema_extra=documented(pattern=LUNAR_PATTERN),
    ),
]
IdNumber = Annotated[
    str,
    Field(
        max_length=18,
        description="Resident ID (cn.ric): the check digit, birthplace and birth date count",
        json_schema_extra=documented(pattern=ID_NUMBER_PATTERN),
    ),
]
Email = Annotated[
    str,
    Field(max_length=TEXT_LIMITS["email"], json_schema_extra=documented(pattern=EMAIL_PATTERN)),
]
# At most TAG_LENGTH characters once the spaces around it are dropped (clean_tags).
Tag = Annotated[str, Field(json_schema_extra=documented(maxLength=TAG_LENGTH))]


def mobile_schema(schema: dict[str, Any]) -> None:
    """The mobile's pattern, and no `default: null` (left out is no change; null is refused)."""
    schema.pop("default", None)
    schema["pattern"] = MOBILE_PATTERN


class Consent(Schema):
    # Forbidding extras also makes ninja check the type first: without it a string or a
    # number is read attribute by attribute and accepted as an empty object.
    model_config = ConfigDict(extra="forbid")

    sms: bool | None = None
    wechat: bool | None = None
    email: bool | None = None


class MemberPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not a no-op
    mobile: str = Field(
        None, max_length=20, description=MOBILE_DESCRIPTION, json_schema_extra=mobile_schema
    )
    name: str | None = Field(None, max_length=TEXT_LIMITS["name"])
    gender: Literal["M", "F", "U"] | None = None
    birthday: Birthday | None = None
    lunar_birthday: Lunar | None = None
    id_number: IdNumber | None = None
    email: Email | None = None
    region: str | None = Field(None, max_length=TEXT_LIMITS["region"])
    address: str | None = Field(None, max_length=TEXT_LIMITS["address"])
    occupation: str | None = Field(None, max_length=TEXT_LIMITS["occupation"])
    income_band: Literal["", "low", "middle", "high", "top"] | None = None
    tags: list[Tag] | None = Field(None, max_length=MAX_TAGS)
    consent: Consent | None = None
    store: str | None = Field(None, max_length=32, description="Store code")
    custom: dict[str, Any] | None = Field(
        None, description="Values of the merchant's custom fields, by key"
    )


class MemberIn(MemberPatch):
    mobile: str = Field(
        ..., max_length=20, description=MOBILE_DESCRIPTION, json_schema_extra=mobile_schema
    )
    referrer_code: str | None = Field(None, max_length=12)
    device_id: str | None = Field(
        None,
        max_length=64,
        description="The joining device's id: a referral from the referrer's own device is refused",
    )
    card_product: str | None = Field(
        None, max_length=32, description="Issue a card of this product (its fee is taken)"
    )
    physical_id: str | None = Field(
        None, max_length=64, description="Bind this physical card (magstripe, barcode or NFC id)"
    )
    payment_method: str | None = Field(
        None,
        max_length=12,
        description="How the card fee is paid (cash, wechat, alipay, card, other)",
    )
    agreement_unit: str | None = Field(
        None, max_length=32, description="Enrol under this agreement unit (协议单位) by its code"
    )
    qualifying_sales: list[int] | None = Field(
        None,
        max_length=50,
        description="Anonymous sales that meet the recruitment rule; they become the member's",
    )
    staff: StaffName = None


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
    lifecycle: str | None = Field(
        None,
        description="excited, active, inert or dormant (API.md §8); null before the first refresh",
    )
    rfm: dict[str, Any] | None = Field(None, description="{r, f, m, cell} quintile scores 1-5")
    value: dict[str, Any] | None = Field(
        None, description="{p_alive, expected_visits_90d, expected_value_90d (fen)}"
    )
    cycle_days: float | None = Field(None, description="the member's own days between visits")
    # Tiers that move (cards): {next, next_name, missing: {spend_12m: 32000}}; next null at the top.
    tier_progress: dict[str, Any] | None = None
    # What the member's tier gives: discount, points_multiplier, birthday_gift, privileges.
    tier_benefits: dict[str, Any] | None = None
    agreement_unit: dict[str, Any] | None = Field(
        None, description="The agreement unit (协议单位) the member joined under: {code, name}"
    )
    cards: list[dict[str, Any]] | None = Field(
        None, description="The member's cards, the one they hold first (API.md §7)"
    )


class MemberPage(Schema):
    items: list[MemberOut]
    # Exact up to 1,000 matches; past that PostgreSQL's estimate (`count_exact` false).
    count: int
    count_exact: bool
    page: int
    page_size: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )
    previous_cursor: str | None = Field(
        None, description="Pass as `cursor` for the page before; null on the first page"
    )
