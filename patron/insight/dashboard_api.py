"""REST endpoints of the dashboard part of insight (API.md §8): `GET /insight/dashboard`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from patron.core.problems import Problem
from patron.insight.dashboard import dashboard, window_for

router = Router(tags=["insight"])
ERRORS = {401: Problem, 404: Problem, 422: Problem}


class DashboardQuery(Schema):
    # Plain text, read by window_for: a bad date is a 422 naming `from` or `to`.
    from_: str | None = Field(
        None, alias="from", max_length=10, description="First local day, YYYY-MM-DD"
    )
    to: str | None = Field(None, max_length=10, description="Last local day, YYYY-MM-DD")
    store: str | None = Field(None, max_length=40, description="A store code (default: all)")


class Members(Schema):
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
    issued: int
    used: int
    sales_count: int
    cost: int
    sales: int
    return_ratio: float | None
    by_template: list[CouponTemplateRow]


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
    median_activity: float | None
    median_loyalty: int | None
    stores: list[DiagnosisStore]


class DashboardOut(Schema):
    from_: dt.date = Field(alias="from")
    to: dt.date
    store: str | None
    members: Members
    sales: Sales
    liabilities: Liabilities
    coupons: Coupons
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
