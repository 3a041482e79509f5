"""Template helpers for tiers and coupons: codes in groups, the member's tier badge and the
coupons card of the member detail page, and the navigation icon."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from patron.promotions import selectors
from patron.promotions.codes import display_code
from patron.promotions.forms import EndCouponForm, IssueCouponForm, SetTierForm
from patron.promotions.views import END_ROLES, ISSUE_ROLES, TIER_ROLES

register = template.Library()

COUPONS_SHOWN = 20
# A ticket with a perforation, in the 24x24 line style of `console.icon`.
TICKET = (
    '<path d="M3 7a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v3a2 2 0 0 0 0 4v3a2 2 0 0 1-2 2H5'
    'a2 2 0 0 1-2-2v-3a2 2 0 0 0 0-4z"/><path d="M14 5v2"/><path d="M14 11v2"/>'
    '<path d="M14 17v2"/>'
)


@register.filter
def coupon_code(code: str) -> str:
    return display_code(code or "")


@register.simple_tag
def promotion_icon(css_class: str = "icon") -> SafeString:
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true">{}</svg>',
        css_class,
        mark_safe(TICKET),  # constant markup defined above, never user input
    )


@register.inclusion_tag("promotions/_tier_badge.html")
def member_tier_badge(member) -> dict[str, Any]:
    return {"tier": selectors.member_tier(member)}


@register.inclusion_tag("promotions/_member_card.html", takes_context=True)
def member_promotions_card(context: template.Context, member) -> dict[str, Any]:
    """Tier and coupons of the member detail page, with the forms the viewer's role allows."""
    request = context.get("request")
    actor = getattr(request, "actor", None)
    role = actor.role if actor else None
    coupons = list(selectors.member_coupons(member)[:COUPONS_SHOWN])
    issue_form = IssueCouponForm(actor=actor) if actor and role in ISSUE_ROLES else None
    tier = selectors.member_tier(member)
    tier_form = None
    if actor and role in TIER_ROLES:
        tier_form = SetTierForm(actor=actor, initial={"tier": tier.code if tier else None})
    return {
        "member": member,
        "tier": tier,
        "coupons": [(coupon, selectors.shown_status(coupon)) for coupon in coupons],
        "more_coupons": len(coupons) >= COUPONS_SHOWN,
        "issue_form": issue_form if issue_form and issue_form.has_templates else None,
        "tier_form": tier_form if tier_form and tier_form.fields["tier"].choices else None,
        "may_end": role in END_ROLES,
        "end_form": EndCouponForm(),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
