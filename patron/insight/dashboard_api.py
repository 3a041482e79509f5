"""REST endpoints of the dashboard part of insight (API.md §8): `GET /insight/dashboard`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator, BeforeValidator

from patron.core.apitypes import FIRST_YEAR, LAST_YEAR, documented
from patron.core.problems import Problem
from patron.insight.dashboard import dashboard, window_for

router = Router(tags=["insight"])
ERRORS = {401: Problem, 404: Problem, 422: Problem}
DAY_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DAY_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _day_text(value: Any) -> Any:
    # pydantic would read "0" as a Unix time (1970-01-01); the document says YYYY-MM-DD.
    if isinstance(value, dt.date) or (isinstance(value, str) and DAY_TEXT.match(value)):
        return value
    raise ValueError("give a day as YYYY-MM-DD")


def _within_years(value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"give a day between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


# A local day of the years 2000..2100, as text (a day the calendar has not, 2027-02-30,
# is a 422 like any other that is no day).
Day = Annotated[
    dt.date,
    BeforeValidator(_day_text),
    AfterValidator(_within_years),
    Field(json_schema_extra=documented(pattern=DAY_PATTERN)),
]


class DashboardQuery(Schema):
    # A day that is no date is a 422 naming `from` or `to`; so is a range backwards, longer
    # than three years or outside 1900..2100 (dashboard.window_for).
    from_: Day | None = Field(
        None, alias="from", description="First local day, YYYY-MM-DD (default: 30 days to `to`)"
    )
    to: Day | None = Field(None, description="Last local day, YYYY-MM-DD (default: today)")
    store: str | None = Field(None, max_length=40, description="A store code (default: all)")


class Members(Schema):
    """Members: `new` joined in the range; `active` bought in it; `repeat_buyers` bought on
    two or more local days of it (`repeat_rate` = repeat_buyers / active); `pareto_members`
    the fewest active members giving 80 % of member sales (`pareto_share` of active);
    `lifecycle` and `dormant` are today's stages (docs/reports.md)."""

    new: int
    active: int
    dormant: int
    total: int
    lifecycle: dict[str, int]
    repeat_buyers: int
    repeat_rate: float | None
    pareto_members: int
    pareto_share: float | None


class Sales(Schema):
    """Sales of the range (imports included) net of the range's refunds, in fen; counts are
    sales made; shares in 0…1; average tickets half up to the fen (null without sales)."""

    total: int
    count: int
    refunds: int
    member_total: int
    member_count: int
    non_member_total: int
    non_member_count: int
    member_share_amount: float | None
    member_share_count: float | None
    average_ticket: int | None
    average_ticket_member: int | None
    average_ticket_non_member: int | None


class LiabilityStore(Schema):
    store: str | None
    name: str
    principal: int
    bonus: int
    stored_value: int
    points: int
    points_value: int


class Liabilities(Schema):
    """What members are owed at `as_of` (the end of `to`, or now): stored value and points
    (valued at the cash-redemption rate), by home store."""

    as_of: dt.datetime
    principal: int
    bonus: int
    stored_value: int
    points: int
    points_value: int
    by_store: list[LiabilityStore]


class CouponTemplateRow(Schema):
    code: str
    name: str
    issued: int
    used: int
    cost: int
    sales: int
    return_ratio: float | None


class Coupons(Schema):
    """Coupons used in the range's sales: `cost` the discount they gave, `sales` what those
    sales finally took (after refunds), `return_ratio` = sales / cost."""

    issued: int
    used: int
    sales_count: int
    cost: int
    sales: int
    return_ratio: float | None
    by_template: list[CouponTemplateRow]


class ActivityOwnerRow(Schema):
    """Discounts given by the promotions and coupons of one owner (F-41) and the sales they
    influenced (after refunds); `owner` the store's code, null for HQ."""

    owner: str | None
    name: str
    discount: int
    applications: int
    sales_count: int
    sales: int


class StoreRow(Schema):
    rank: int
    store: str | None
    name: str
    sales: int
    member_sales: int
    count: int
    active_members: int
    new_members: int


class StaffRow(Schema):
    rank: int
    username: str | None
    name: str
    sales: int
    member_sales: int
    count: int
    active_members: int
    new_members: int


class Series(Schema):
    """Per period (day up to 92 days, week up to 731, else month): net sales, net member
    sales, members who joined, distinct members who bought."""

    granularity: str = Field(description="day, week (Mondays) or month (firsts)")
    periods: list[dt.date]
    sales: list[int]
    member_sales: list[int]
    new_members: list[int]
    active_members: list[int]


class DiagnosisStore(Schema):
    store: str
    name: str
    visits: int
    members: int
    spend: int
    activity: float
    loyalty: int
    quadrant: str = Field(description="keep, product_or_price, win_back or quality_or_service")
    reading: str


class Diagnosis(Schema):
    """F-31: each store's member visits per buying member (`activity`) and member spend per
    visit in fen (`loyalty`) against the chain's medians, placed in the seed's grid."""

    median_activity: float | None
    median_loyalty: int | None
    stores: list[DiagnosisStore]


class DashboardOut(Schema):
    """The F-47 figures over local days `from`..`to` (docs/reports.md)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    store: str | None
    members: Members
    sales: Sales
    liabilities: Liabilities
    coupons: Coupons
    owners: list[ActivityOwnerRow]
    stores: list[StoreRow]
    staff: list[StaffRow]
    series: Series
    diagnosis: Diagnosis


@router.get(
    "/insight/dashboard",
    response={200: DashboardOut, **ERRORS},
    summary="The dashboard's figures (F-47) over a range of days",
    by_alias=True,
)
def get_dashboard(request: HttpRequest, query: Query[DashboardQuery]):
    """Money in fen, shares in 0…1, days in the merchant's zone; see docs/reports.md for what
    each figure means. The range is at most three years; by default the last 30 days."""
    window = window_for(request.actor, query.from_, query.to, query.store)
    return dashboard(request.actor, window)
