"""Tiers on screens: the member page's tier card (benefits, progress, history), the till's
member card section, and the console tier editor at /tiers/ with its preview of how many
members each tier would hold under the edited rules (HQ roles edit; each save is a program
revision, as `patron program apply` records it)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from patron.cards import tiers
from patron.cards.tier_forms import FEN_KEYS, TierForm, key_label
from patron.core.money import FEN_PER_YUAN, yuan
from patron.engine import tiers as rules
from patron.members.models import Member
from patron.program.selectors import category_names
from patron.promotions import editing
from patron.promotions.editor_views import report_changes
from patron.promotions.models import CouponTemplate, Tier, TierChange
from patron.promotions.views import EDIT_ROLES
from patron.tenancy.actor import Actor
from patron.tenancy.permissions import console_view, require_role

HISTORY_SHOWN = 10


# --- words -----------------------------------------------------------------------------------


def short_yuan(fen: int) -> str:
    """¥320 for whole yuan, ¥320.50 otherwise."""
    return f"¥{fen // FEN_PER_YUAN:,}" if fen % FEN_PER_YUAN == 0 else yuan(fen)


def figure(key: str, value: int) -> str:
    return short_yuan(value) if key in FEN_KEYS else f"{value:,}"


def progress_line(key: str, gap: int, tier: str) -> str:
    """再消费 ¥320 升级金卡会员 — one condition of the next tier in words."""
    if key in ("spend_12m", "spend_total"):
        text = _("Spend %(amount)s more to reach %(tier)s")
    elif key == "single_sale":
        text = _("Spend %(amount)s in one purchase to reach %(tier)s")
    elif key == "single_topup":
        text = _("Top up %(amount)s at once to reach %(tier)s")
    elif key == "visits_12m":
        text = _("%(amount)s more visits to reach %(tier)s")
    else:
        text = _("Earn %(amount)s more points to reach %(tier)s")
    return text % {"amount": figure(key, gap), "tier": tier}


def progress_lines(progress: tiers.Progress) -> list[str]:
    if progress.next is None:
        return []
    return [progress_line(k, gap, progress.next.name) for k, gap in progress.missing.items()]


def conditions_text(conditions: dict[str, int]) -> list[str]:
    return [f"{key_label(key)} ≥ {figure(key, conditions[key])}" for key in conditions]


def percent_off(percent: int) -> str:
    """88 -> 8.8折 (pay 88 % of the price)."""
    return _("%(rate)s (%(percent)s%% of the price)") % {
        "rate": f"{percent / 10:g}",
        "percent": percent,
    }


def benefits(tier: Tier | None, names: dict[str, str]) -> dict[str, Any]:
    """A tier's benefits in words: member prices, points, birthday gift, privileges."""
    if tier is None:
        return {"discounts": [], "multiplier": None, "birthday": [], "privileges": []}
    discounts = [
        f"{names.get(code, code)} {percent_off(percent)}"
        for code, percent in sorted((tier.discount or {}).items())
    ]
    multiplier = None
    if tier.points_multiplier_percent != 100:
        multiplier = _("Points ×%s") % f"{tier.points_multiplier_percent / 100:g}"
    birthday = []
    gift = tier.birthday_gift or {}
    if gift.get("points"):
        birthday.append(_("%s points") % f"{gift['points']:,}")
    if gift.get("coupon"):
        template = CouponTemplate.objects.filter(
            merchant_id=tier.merchant_id, code=gift["coupon"]
        ).first()
        birthday.append(template.name if template else gift["coupon"])
    return {
        "discounts": discounts,
        "multiplier": multiplier,
        "birthday": birthday,
        "privileges": list(tier.privileges or []),
    }


def benefits_fact(member: Member) -> dict[str, Any]:
    """The API's `tier_benefits`: what the member's tier gives, as data."""
    found = tiers.merchant_rules(member.merchant_id)
    tier = found.current(member.tier_id)
    if tier is None:
        return {}
    return {
        "tier": tier.code,
        "discount": dict(tier.discount or {}),
        "points_multiplier": tier.points_multiplier_percent / 100,
        "birthday_gift": dict(tier.birthday_gift or {}),
        "privileges": list(tier.privileges or []),
    }


def change_detail(change: TierChange) -> str:
    shown = []
    for key, value in (change.detail or {}).items():
        if key in rules.KEYS and isinstance(value, int):
            shown.append(f"{key_label(key)} {figure(key, value)}")
        elif key == "first_deposit" and isinstance(value, int):
            shown.append(_("First deposit %s") % short_yuan(value))
    if change.note:
        shown.append(change.note)
    return "; ".join(shown)


# --- the member page and the till ------------------------------------------------------------


def member_tier_panel(request: HttpRequest, member: Member) -> SafeString:
    found = tiers.merchant_rules(member.merchant_id)
    tier = found.current(member.tier_id)
    history = list(
        TierChange.objects.filter(member=member).select_related("from_tier", "to_tier")[
            :HISTORY_SHOWN
        ]
    )
    context = {
        "tier": tier,
        "benefits": benefits(tier, category_names(request.actor.merchant)),
        "progress": progress_lines(tiers.progress(member)) if len(found.tiers) > 1 else [],
        "at_top": tier is not None and rules.next_rule(found.engine, tier.rank) is None,
        "history": [(change, change_detail(change)) for change in history],
    }
    return render_to_string("cards/tiers/_member_panel.html", context, request=request)


def till_section(actor: Actor, member: Member) -> str:
    found = tiers.merchant_rules(member.merchant_id)
    if not found.tiers:
        return ""
    tier = found.current(member.tier_id)
    context = {
        "benefits": benefits(tier, category_names(actor.merchant)),
        "progress": progress_lines(tiers.progress(member)) if len(found.tiers) > 1 else [],
    }
    return render_to_string("cards/tiers/_till.html", context)


# --- the editor ------------------------------------------------------------------------------


def _rows(actor: Actor) -> list[dict[str, Any]]:
    return editing.current_rows(actor, "tiers")


def _row_or_404(actor: Actor, code: str) -> dict[str, Any]:
    for row in _rows(actor):
        if row["code"] == code:
            return row
    raise Http404(_("Not found"))


@require_http_methods(["GET"])
@console_view
def tier_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    found = tiers.merchant_rules(actor.merchant)
    names = category_names(actor.merchant)
    counts = tiers.members_per_tier(actor.merchant, found)
    rows = [
        {
            "tier": tier,
            "benefits": benefits(tier, names),
            "upgrade": conditions_text(dict(tier.upgrade_when or {})),
            "keep": conditions_text(dict(tier.keep_when or {})),
            "members": counts.get(tier.code, 0),
        }
        for tier in found.tiers
    ]
    context = {"rows": rows, "may_edit": actor.role in EDIT_ROLES}
    return render(request, "cards/tiers/list.html", context)


@require_http_methods(["GET", "POST"])
@require_role(*EDIT_ROLES)
def tier_edit(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.actor
    row = _row_or_404(actor, code)
    initial = TierForm.initial_from_row(row)
    if request.method == "POST":
        form = TierForm(request.POST, actor=actor, rank=row["rank"], initial=initial)
        if form.is_valid():
            try:
                changes = tiers.save_tier(actor, code, form.to_row(code))
            except editing.RowRefused as refused:
                for error in refused.row_errors:
                    shown = f"{error.path}: {error.message}" if error.path else error.message
                    form.add_error(None, shown)
                for message in refused.other_errors:
                    form.add_error(None, message)
            else:
                report_changes(request, changes, _("Saved “%s”.") % row["name"])
                return redirect("tiers:list")
    else:
        form = TierForm(actor=actor, rank=row["rank"], initial=initial)
    context = {
        "form": form,
        "row": row,
        "preview_url": reverse("tiers:preview", args=[code]),
    }
    return render(request, "cards/tiers/edit.html", context)


def preview_sentence(counts: list[tuple[str, int]]) -> str:
    """按此规则，今天：普通会员 1,204 人，银卡会员 310 人，金卡会员 52 人"""
    parts = [
        ngettext("%(tier)s %(count)s member", "%(tier)s %(count)s members", count)
        % {"tier": name, "count": f"{count:,}"}
        for name, count in counts
    ]
    return _("Under these rules, today: %s") % pgettext("list separator", ", ").join(parts)


@require_POST
@require_role(*EDIT_ROLES)
def tier_preview(request: HttpRequest, code: str) -> HttpResponse:
    """How many members each tier would hold today under the edited rules (nothing written)."""
    actor = request.actor
    row = _row_or_404(actor, code)
    form = TierForm(request.POST, actor=actor, rank=row["rank"])
    context: dict[str, Any] = {"errors": [], "counts": []}
    if not form.is_valid():
        context["errors"] = [e for errors in form.errors.values() for e in errors]
    else:
        draft = [form.to_row(code) if r["code"] == code else r for r in _rows(actor)]
        problems = tiers.draft_problems(actor, draft)
        if problems:
            context["errors"] = problems
        else:
            counts = tiers.counts_under(actor.merchant, tiers.engine_rules(draft))
            context["counts"] = [(r["name"], counts.get(r["code"], 0)) for r in draft]
            context["sentence"] = preview_sentence(context["counts"])
    return render(request, "cards/tiers/_preview.html", context)
