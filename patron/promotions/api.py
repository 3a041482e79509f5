"""Coupons, tiers and promotions over the API (API.md §3). Mounted at the API root."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Query, Router, Status

from patron.core.apitypes import PathId
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for
from patron.promotions import selectors, services
from patron.promotions.describe import describe_benefit, describe_condition
from patron.promotions.models import Coupon, CouponTemplate, Promotion
from patron.promotions.program import export_benefit, export_condition
from patron.promotions.schemas import (
    CouponFilters,
    CouponIn,
    CouponOut,
    CouponTemplateOut,
    MemberTierOut,
    PromotionOut,
    TierIn,
)

router = Router(tags=["promotions"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


def coupon_out(coupon: Coupon) -> dict[str, Any]:
    return {
        "code": coupon.code,
        "template": coupon.template.code,
        "name": coupon.template.name,
        "member": coupon.member_id,
        "status": selectors.shown_status(coupon),
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "issued_at": coupon.issued_at,
        "used_at": coupon.used_at,
    }


@router.post(
    "/members/{member_id}/coupons",
    response={201: CouponOut, **ERRORS},
    summary="Issue a coupon of a template to a member",
)
def issue_coupon(request: HttpRequest, member_id: PathId, payload: CouponIn):
    actor = request.actor
    member = member_for(actor, member_id)
    # Without a header, no key: each call issues a coupon. ("api": the prefix keys have had.)
    key = key_for(request, "api") if request.headers.get("Idempotency-Key") else None
    coupon = services.issue_coupon(actor, member, payload.template, key=key)
    return Status(201, coupon_out(coupon))


@router.get(
    "/members/{member_id}/coupons",
    response={200: list[CouponOut], **ERRORS},
    summary="A member's coupons, newest first",
)
def list_coupons(request: HttpRequest, member_id: PathId, filters: Query[CouponFilters]):
    member = member_for(request.actor, member_id)
    return [coupon_out(c) for c in selectors.member_coupons(member, filters.status or None)]


@router.put(
    "/members/{member_id}/tier",
    response={200: MemberTierOut, **ERRORS},
    summary="Put a member on a tier (audited, with the reason)",
)
def set_tier(request: HttpRequest, member_id: PathId, payload: TierIn):
    member = member_for(request.actor, member_id)
    member = services.set_member_tier(request.actor, member, payload.tier, reason=payload.reason)
    tier = selectors.member_tier(member)
    return {
        "member": member.pk,
        "tier": tier.code if tier else None,
        "name": tier.name if tier else None,
        "rank": tier.rank if tier else None,
    }


def promotion_out(promotion: Promotion, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "code": promotion.code,
        "name": promotion.name,
        "owner": promotion.owner_store.code if promotion.owner_store_id else None,
        "kind": promotion.kind,
        "members_only": promotion.members_only,
        "condition": export_condition(promotion.condition, zone),
        "benefit": export_benefit(promotion.benefit),
        "stacking": promotion.stacking,
        "priority": promotion.priority,
        "description": " · ".join(
            [
                describe_benefit(promotion.benefit),
                describe_condition(promotion.condition, zone, members_only=promotion.members_only),
            ]
        ),
    }


@router.get(
    "/promotions",
    response={200: list[PromotionOut], **ERRORS},
    summary="Active automatic and code promotions",
)
def list_promotions(request: HttpRequest):
    zone = ZoneInfo(request.actor.merchant.timezone)
    promotions = selectors.active_promotions(request.actor.merchant).select_related("owner_store")
    return [promotion_out(p, zone) for p in promotions]


def template_out(template: CouponTemplate, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "code": template.code,
        "name": template.name,
        "owner": template.owner_store.code if template.owner_store_id else None,
        "condition": export_condition(template.condition, zone),
        "benefit": export_benefit(template.benefit),
        "stacking": template.stacking,
        "priority": template.priority,
        "valid_days": template.valid_days,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
        "per_member_limit": template.per_member_limit,
        "stock": template.stock,
        "issued": template.issued_count,
        "remaining": template.remaining,
        "description": " · ".join(
            [describe_benefit(template.benefit), describe_condition(template.condition, zone)]
        ),
    }


@router.get(
    "/coupon-templates",
    response={200: list[CouponTemplateOut], **ERRORS},
    summary="Active coupon templates",
)
def list_templates(request: HttpRequest):
    zone = ZoneInfo(request.actor.merchant.timezone)
    templates = selectors.active_templates(request.actor.merchant).select_related("owner_store")
    return [template_out(t, zone) for t in templates]
