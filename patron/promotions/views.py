"""Console pages for tiers, promotions and coupons (F-10, F-11, F-25, F-26).

The overview lists what the program file configured, in plain words; the member detail page
gets the member's tier and coupons from `member_card_panel` (a members.profile panel), whose
forms post here. Reads go through `patron.promotions.selectors` and the scoped member
selectors (another store's or merchant's member is "not found"); writes through
`patron.promotions.services`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from patron.catalogue.models import Product
from patron.core.errors import DomainError
from patron.members.models import Member
from patron.members.selectors import member_or_404, members_for
from patron.program.models import Category
from patron.program.selectors import category_names
from patron.program.views import REVISION_ROLES
from patron.promotions import limits, selectors, services, store_activities
from patron.promotions.codes import display_code
from patron.promotions.describe import (
    describe_benefit,
    describe_condition,
    describe_upgrade,
    describe_validity,
)
from patron.promotions.forms import EndCouponForm, IssueCouponForm, SetTierForm
from patron.promotions.models import CouponTemplate, Promotion, Tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Role, Store
from patron.tenancy.permissions import console_view, require_role

ISSUE_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
# Who changes promotions and coupon templates (editor_views): HQ roles all of them, a store
# manager their store's own within HQ's limits (store_activities); cashiers only read them.
EDIT_ROLES = (Role.HQ_ADMIN, Role.MARKETER, Role.STORE_MANAGER)
TIER_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
END_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
COUPONS_SHOWN = 20


def back_to_member(member: Member) -> HttpResponse:
    return redirect(reverse("members:detail", args=[member.pk]) + "#member-coupons")


# --- overview --------------------------------------------------------------------------------


@dataclass
class TierRow:
    tier: Tier
    discounts: list[tuple[str, int]]
    multiplier: str
    upgrade: str
    members: int


@dataclass
class PromotionRow:
    promotion: Promotion
    benefit: str
    condition: str
    limits: list[str] = field(default_factory=list)  # stock sold and per-member limits, in words
    mine: bool = True  # the actor may change it


def describe_limits(limits: dict[str, int], sold: int) -> list[str]:
    """A limited promotion's live stock and per-member limits as the console shows them."""
    if not limits:
        return []
    total = limits.get("total")
    words = [
        _("Sold %(sold)s / %(total)s") % {"sold": sold, "total": total}
        if total is not None
        else _("Sold %(sold)s") % {"sold": sold}
    ]
    if limits.get("per_member") is not None:
        words.append(_("%(count)s per member") % {"count": limits["per_member"]})
    if limits.get("per_member_per_day") is not None:
        words.append(_("%(count)s per member a day") % {"count": limits["per_member_per_day"]})
    return words


@dataclass
class TemplateRow:
    template: CouponTemplate
    benefit: str
    condition: str
    validity: str
    mine: bool = True


def tier_member_counts(actor: Actor, tiers: list[Tier]) -> dict[int | None, int]:
    """Members per tier that the actor may see; members on no (or an ended) tier are counted
    on the rank-0 tier, as the engine prices them."""
    counts = {
        row["tier"]: row["count"]
        for row in members_for(actor).order_by().values("tier").annotate(count=Count("id"))
    }
    active = {tier.pk for tier in tiers}
    base = next((tier.pk for tier in tiers if tier.rank == 0), None)
    shown: dict[int | None, int] = {pk: counts.get(pk, 0) for pk in active}
    if base is not None:
        shown[base] += sum(n for pk, n in counts.items() if pk not in active)
    return shown


def named(
    benefit: dict[str, Any], names: dict[str, str], skus: dict[str, str] | None = None
) -> dict[str, Any]:
    """A benefit with the categories (客房) and products (龙井礼盒) it names by name, as screens
    show them; `skus` maps SKU -> product name (sku_names)."""
    shown = dict(benefit)
    if benefit.get("categories"):
        shown["categories"] = [names.get(code, code) for code in benefit["categories"]]
    if skus and benefit.get("skus"):
        shown["skus"] = [skus.get(code, code) for code in benefit["skus"]]
    if skus and benefit.get("sku"):
        shown["sku"] = skus.get(benefit["sku"], benefit["sku"])
    return shown


def sku_names(merchant: Merchant, rules: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Product names of the SKUs these benefits and conditions name (one query, only those)."""
    wanted = set()
    for rule in rules:
        wanted.update(rule.get("skus") or [])
        if rule.get("sku"):
            wanted.add(rule["sku"])
    if not wanted:
        return {}
    return dict(
        Product.objects.filter(merchant=merchant, sku__in=wanted).values_list("sku", "name")
    )


def tier_rows(actor: Actor) -> list[TierRow]:
    from patron.promotions.program import multiplier_number

    tiers = list(selectors.active_tiers(actor.merchant))
    counts = tier_member_counts(actor, tiers)
    names = category_names(actor.merchant)  # a tier's member prices by category name (客房)
    return [
        TierRow(
            tier=tier,
            discounts=sorted((names.get(c, c), p) for c, p in tier.discount.items()),
            multiplier=f"{multiplier_number(tier.points_multiplier_percent)}×",
            upgrade=describe_upgrade(tier.upgrade_when),
            members=counts.get(tier.pk, 0),
        )
        for tier in tiers
    ]


def program_names(actor: Actor) -> dict[str, dict[str, str]]:
    """Names of the tiers, stores and categories conditions name by code."""
    from patron.promotions.editor_forms import category_label

    merchant = actor.merchant
    return {
        "tiers": dict(Tier.objects.filter(merchant=merchant).values_list("code", "name")),
        "stores": dict(Store.objects.filter(merchant=merchant).values_list("code", "name")),
        "categories": {
            c.code: category_label(c) for c in Category.objects.filter(merchant=merchant)
        },
    }


@console_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    zone = ZoneInfo(actor.merchant.timezone)
    names = program_names(actor)
    scope = store_activities.store_scope(actor)
    owner = request.GET.get("owner", "")
    listed = list(
        store_activities.listed(selectors.program_promotions(actor.merchant), scope, owner)
    )
    sold = limits.sold(p.pk for p in listed if p.limits)
    shown_templates = list(
        store_activities.listed(selectors.program_templates(actor.merchant), scope, owner)
    )
    names["skus"] = sku_names(
        actor.merchant,
        [r for p in [*listed, *shown_templates] for r in (p.benefit, p.condition or {})],
    )
    promotions = [
        PromotionRow(
            promotion=p,
            benefit=describe_benefit(named(p.benefit, names["categories"], names["skus"])),
            condition=describe_condition(
                p.condition, zone, members_only=p.members_only, names=names
            ),
            limits=describe_limits(p.limits, sold.get(p.pk, 0)),
            mine=store_activities.may_change(actor, p.owner_store_id),
        )
        for p in listed
    ]
    templates = [
        TemplateRow(
            template=t,
            benefit=describe_benefit(named(t.benefit, names["categories"], names["skus"])),
            condition=describe_condition(t.condition, zone, names=names),
            validity=describe_validity(t, zone),
            mine=store_activities.may_change(actor, t.owner_store_id),
        )
        for t in shown_templates
    ]
    context = {
        "tiers": tier_rows(actor),
        "promotions": promotions,
        "templates": templates,
        "may_edit": actor.role in EDIT_ROLES,
        "may_create_promotion": store_activities.may_create(actor, "promotions"),
        "may_create_template": store_activities.may_create(actor, "coupon_templates"),
        "may_revisions": actor.role in REVISION_ROLES,
        "owners": store_activities.owner_choices(actor),
        "owner": owner,
        "store_scope": scope,
    }
    return render(request, "promotions/overview.html", context)


# --- member actions --------------------------------------------------------------------------


@require_POST
@require_role(*ISSUE_ROLES)
def issue_coupon(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = member_or_404(actor, pk)
    form = IssueCouponForm(request.POST, actor=actor)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back_to_member(member)
    try:
        coupon = services.issue_coupon(
            actor,
            member,
            form.cleaned_data["template"],
            key=f"console-coupon:{form.cleaned_data['token']}",
        )
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        if getattr(coupon, "replayed", False):
            messages.info(request, _("This coupon was already issued; no second one was made."))
        else:
            messages.success(
                request,
                _("Coupon %(name)s issued: %(code)s.")
                % {"name": coupon.template.name, "code": display_code(coupon.code)},
            )
    return back_to_member(member)


@require_POST
@require_role(*TIER_ROLES)
def set_tier(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = member_or_404(actor, pk)
    form = SetTierForm(request.POST, actor=actor)
    if not form.is_valid():
        messages.error(request, _("Choose one of the tiers."))
        return back_to_member(member)
    try:
        member = services.set_member_tier(
            actor, member, form.cleaned_data["tier"], reason=form.cleaned_data["reason"]
        )
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        tier = selectors.member_tier(member)
        messages.success(
            request,
            _("%(member)s is now on tier %(tier)s.")
            % {"member": member.name or member.card_no, "tier": tier.name if tier else "—"},
        )
    return back_to_member(member)


@require_POST
@require_role(*END_ROLES)
def end_coupon(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    coupon = selectors.coupon_for(actor, pk)
    if coupon is None:
        raise Http404(_("Coupon not found"))
    member = member_or_404(actor, coupon.member_id)  # another store's member: not found
    form = EndCouponForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A reason is required to withdraw a coupon."))
        return back_to_member(member)
    try:
        services.end_coupon(actor, coupon, reason=form.cleaned_data["reason"])
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        messages.success(
            request, _("Coupon %(code)s withdrawn.") % {"code": display_code(coupon.code)}
        )
    return back_to_member(member)


# --- panels of the member's page (members.profile) -------------------------------------------


def tier_badge_panel(request: HttpRequest, member: Member) -> SafeString:
    context = {"tier": selectors.member_tier(member)}
    return render_to_string("promotions/_tier_badge.html", context, request=request)


def member_card_panel(request: HttpRequest, member: Member) -> SafeString:
    """Tier and coupons of the member detail page, with the forms the viewer's role allows."""
    actor = request.actor
    role = actor.role
    coupons = list(selectors.member_coupons(member)[:COUPONS_SHOWN])
    issue_form = IssueCouponForm(actor=actor) if role in ISSUE_ROLES else None
    tier = selectors.member_tier(member)
    tier_form = None
    if role in TIER_ROLES:
        tier_form = SetTierForm(actor=actor, initial={"tier": tier.code if tier else None})
    context = {
        "member": member,
        "tier": tier,
        "coupons": [(coupon, selectors.shown_status(coupon)) for coupon in coupons],
        "more_coupons": len(coupons) >= COUPONS_SHOWN,
        "issue_form": issue_form if issue_form and issue_form.has_templates else None,
        "tier_form": tier_form if tier_form and tier_form.fields["tier"].choices else None,
        "may_end": role in END_ROLES,
        "end_form": EndCouponForm(),
    }
    return render_to_string("promotions/_member_card.html", context, request=request)
