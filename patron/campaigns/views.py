"""Console pages of campaigns (F-35..F-40): the list, the editor with the audience's live count
and a cron's next runs, the campaign's page (launch / pause / resume / cancel, the run's
progress, the report, recent messages) and the preview of a message for one member.

The pages only read and call the services; every write goes through `services`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.campaigns import audience, channels, report, schedules, services, templating
from patron.campaigns.builtin_templates import BUILTIN_TEMPLATES
from patron.campaigns.forms import AudienceMode, CampaignForm, initial_from
from patron.campaigns.journeys import journey_presets
from patron.campaigns.models import (
    Campaign,
    CampaignRun,
    Channel,
    Message,
    MessageTemplate,
    Target,
)
from patron.core.errors import DomainError
from patron.core.htmx import wants_fragment
from patron.insight import segments
from patron.members.models import Member
from patron.members.selectors import members_for, search_members, shown_mobile
from patron.promotions import store_activities
from patron.promotions.models import CouponTemplate, Tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role

# HQ roles run every campaign; a store manager their store's own, when HQ allows it
# (store_activities; HQ's shown read-only, other stores' not at all).
CAMPAIGN_ROLES = (Role.HQ_ADMIN, Role.MARKETER, Role.STORE_MANAGER)
may_use = require_role(*CAMPAIGN_ROLES)
# What each button asks the service to do, and which statuses show it.
ACTIONS = {
    "launch": ("launch", (Campaign.Status.DRAFT,)),
    "pause": ("pause", (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING)),
    "resume": ("resume", (Campaign.Status.PAUSED,)),
    "cancel": (
        "cancel",
        (
            Campaign.Status.DRAFT,
            Campaign.Status.SCHEDULED,
            Campaign.Status.RUNNING,
            Campaign.Status.PAUSED,
        ),
    ),
}
EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.PAUSED)
RECENT_MESSAGES = 20


def campaigns_for(actor: Actor):
    campaigns = Campaign.objects.filter(merchant=actor.merchant)
    return store_activities.listed(campaigns, store_activities.store_scope(actor))


def campaign_or_404(actor: Actor, campaign_id: int) -> Campaign:
    campaign = campaigns_for(actor).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("Campaign not found"))
    return campaign


# ---------------------------------------------------------------------------------- choices


def channel_choices(actor: Actor) -> list[tuple[str, str]]:
    """The channels configured for the merchant (the channels part), by their names."""
    labels = dict(Channel.choices)
    return [(code, str(labels.get(code, code))) for code in channels.available(actor.merchant)]


def builtin_name(name: str) -> str:
    """A built-in template's name ("生日祝福 Birthday greeting") in the page's language."""
    chinese, _space, english = name.partition(" ")
    english_page = (get_language() or "").startswith("en")
    return (english if english_page and english else chinese) or name


def builtin_templates() -> list[tuple[str, str]]:
    """The built-in message templates (care, promotion, information) of the channels part,
    as (code, name); `templating.resolve` falls back to them for a code the merchant lacks."""
    return [
        (code, f"{builtin_name(data['name'])} · {_('built-in')}")
        for code, data in BUILTIN_TEMPLATES.items()
    ]


def message_template_choices(actor: Actor) -> list[tuple[str, str]]:
    own = MessageTemplate.objects.filter(merchant=actor.merchant, is_active=True)
    codes = {t.code for t in own}
    builtins = [(code, name) for code, name in builtin_templates() if code not in codes]
    return [(t.code, t.name) for t in own] + builtins


def coupon_template_choices(actor: Actor) -> list[tuple[str, str]]:
    templates = CouponTemplate.objects.filter(merchant=actor.merchant).order_by("code")
    scope = store_activities.store_scope(actor)
    if scope is not None:  # a store's campaign gives its own coupons only
        templates = templates.filter(owner_store=scope)
    return [(t.code, t.name) for t in templates]


def segment_choices(actor: Actor) -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in segments.segments_for(actor).order_by("name")]


def presets() -> list[dict[str, Any]]:
    """The journeys part's starting points (birthday care, win-back, thanks after a visit,
    a promotion, information...), each an API body with a `code`, a `name` and a
    `description`."""
    return journey_presets()


def tier_choices(actor: Actor) -> list[tuple[str, str]]:
    tiers = Tier.objects.filter(merchant=actor.merchant, is_active=True).order_by("rank", "code")
    return [(t.code, t.name) for t in tiers]


def campaign_form(actor: Actor, *args: Any, **kwargs: Any) -> CampaignForm:
    return CampaignForm(
        *args,
        segments=segment_choices(actor),
        channels=channel_choices(actor),
        message_templates=message_template_choices(actor),
        coupon_templates=coupon_template_choices(actor),
        tiers=tier_choices(actor),
        owners=owner_choices(actor),
        **kwargs,
    )


def owner_choices(actor: Actor) -> list[tuple[str, str]]:
    """HQ and every store for HQ roles; a store manager their store only."""
    scope = store_activities.store_scope(actor)
    if scope is not None:
        return [(scope.code, scope.name)]
    stores = Store.objects.filter(merchant=actor.merchant, is_active=True).order_by("code")
    return [("", _("HQ")), *((s.code, s.name) for s in stores)]


# ---------------------------------------------------------------------------------- list


def reached_counts(campaign_ids: list[int]) -> dict[int, int]:
    rows = (
        Target.objects.filter(campaign_id__in=campaign_ids, outcome=Target.Outcome.REACHED)
        .values("campaign_id")
        .annotate(n=Count("id"))
    )
    return {row["campaign_id"]: row["n"] for row in rows}


@may_use
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    status = request.GET.get("status", "")
    if status not in Campaign.Status.values:
        status = ""
    owner = request.GET.get("owner", "")
    scope = store_activities.store_scope(actor)
    campaigns = store_activities.listed(campaigns_for(actor), scope, owner)
    if status:
        campaigns = campaigns.filter(status=status)
    rows = list(campaigns[:200])
    reached = reached_counts([c.pk for c in rows])
    by_status = dict(campaigns_for(actor).values_list("status").annotate(n=Count("id")).order_by())
    context = {
        "campaigns": [(c, reached.get(c.pk, 0)) for c in rows],
        "status": status,
        "statuses": [
            (value, label, by_status.get(value, 0)) for value, label in Campaign.Status.choices
        ],
        "total": sum(by_status.values()),
        "owner": owner,
        "owners": store_activities.owner_choices(actor),
        "may_create": store_activities.may_create(actor, "campaigns"),
        "may_change": {c.pk for c in rows if store_activities.may_change(actor, c.owner_store_id)},
    }
    return render(request, "campaigns/list.html", context)


@may_use
def campaign_audience_size(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """One campaign's audience size, loaded into its row (a count per row is a query each)."""
    campaign = campaign_or_404(request.actor, campaign_id)
    return render(request, "campaigns/_size.html", audience_size(campaign.merchant, campaign))


def audience_size(merchant: Any, campaign: Campaign) -> dict[str, Any]:
    if not campaign.audience and not campaign.owner_store_id:
        return {"everyone": True}
    try:
        return {"count": audience.campaign_members(campaign).count()}
    except DomainError as problem:
        return {"error": str(problem)}


# ---------------------------------------------------------------------------------- editor


@may_use
@require_POST
def audience_count(request: HttpRequest) -> HttpResponse:
    """The editor's live count: the audience as the inputs now stand (htmx, on change)."""
    actor: Actor = request.actor
    form = campaign_form(actor, request.POST)
    form.is_valid()  # the other inputs may be unfinished; only the audience matters here
    errors = [str(e) for name in ("segment", "filter") for e in form.errors.get(name, [])]
    context: dict[str, Any] = {"errors": errors}
    unchosen = {
        AudienceMode.SEGMENT: not request.POST.get("segment"),
        AudienceMode.FILTER: not (request.POST.get("filter") or "").strip(),
    }
    if unchosen.get(request.POST.get("audience_mode", "")):
        # Nothing chosen yet: a hint, not an error, before the marketer has done anything.
        return render(request, "campaigns/_count.html", {"unchosen": True})
    target = form.audience() if not errors else {}
    code = form.cleaned_data.get("owner") or None
    owner = Store.objects.filter(merchant=actor.merchant, code=code).first() if code else None
    if target or (owner and not errors):
        # As it will run: a store's own campaign counts that store's members only.
        draft = Campaign(merchant=actor.merchant, audience=target, owner_store=owner)
        try:
            context["count"] = audience.campaign_members(draft).count()
        except DomainError as problem:
            context["errors"] = [str(e.message) for e in problem.errors] or [str(problem)]
    elif not errors:
        context["everyone"] = True
    return render(request, "campaigns/_count.html", context)


@may_use
@require_POST
def cron_preview(request: HttpRequest) -> HttpResponse:
    """The next five runs of the cron being typed, in the merchant's time, or why it is wrong."""
    actor: Actor = request.actor
    expr = (request.POST.get("cron") or "").strip()
    context: dict[str, Any] = {}
    if expr:
        context["error"] = schedules.check_cron(expr)
        if not context["error"]:
            draft = Campaign(
                merchant=actor.merchant,
                kind=Campaign.Kind.RECURRING,
                status=Campaign.Status.SCHEDULED,
                schedule={"cron": expr},
            )
            now = timezone.now()
            runs = schedules.next_runs(draft, now, now + dt.timedelta(days=400))[:5]
            context["runs"] = [timezone.localtime(run) for run in runs]
    return render(request, "campaigns/_cron.html", context)


def editor(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    actor: Actor = request.actor
    preset_list = presets()
    chosen = None
    if request.method == "POST":
        form = campaign_form(actor, request.POST)
        if form.is_valid():
            try:
                if campaign is None:
                    campaign = services.create_campaign(actor, form.spec())
                else:
                    campaign = services.update_campaign(actor, campaign, form.spec())
            except store_activities.NotYourStore:
                raise PermissionDenied from None
            except DomainError as problem:
                form.add_service_errors(problem)
            else:
                messages.success(request, _("Campaign %(name)s saved.") % {"name": campaign.name})
                return redirect("campaigns:detail", campaign.pk)
    else:
        chosen = next((p for p in preset_list if p.get("code") == request.GET.get("preset")), None)
        initial = initial_from(campaign or chosen) if (campaign or chosen) else {}
        form = campaign_form(actor, initial=initial)
    context = {
        "form": form,
        "campaign": campaign,
        "presets": preset_list,
        "preset": chosen,
    }
    return render(request, "campaigns/editor.html", context)


@may_use
def campaign_new(request: HttpRequest) -> HttpResponse:
    if not store_activities.may_create(request.actor, "campaigns"):
        raise PermissionDenied
    return editor(request, None)


@may_use
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_or_404(request.actor, campaign_id)
    if not store_activities.may_change(request.actor, campaign.owner_store_id):
        raise PermissionDenied
    if campaign.status not in EDITABLE:
        messages.error(request, _("Only a draft or a paused campaign can be changed."))
        return redirect("campaigns:detail", campaign.pk)
    return editor(request, campaign)


# ---------------------------------------------------------------------------------- one campaign


def current_run(campaign: Campaign) -> CampaignRun | None:
    return campaign.runs.order_by("-started_at", "-pk").first()


def uplift_words(uplift: dict[str, Any]) -> str:
    """The uplift as a sentence: rates, the difference and its 95 % interval in points."""
    if not uplift or uplift.get("treated_rate") is None or uplift.get("holdout_rate") is None:
        return _("Not enough members yet to compare with the holdout.")
    lo, hi = (uplift.get("ci95") or [None, None])[:2]
    words = _(
        "%(treated).1f%% of the contacted members bought, %(holdout).1f%% of the holdout: "
        "%(diff)+.1f percentage points."
    ) % {
        "treated": uplift["treated_rate"] * 100,
        "holdout": uplift["holdout_rate"] * 100,
        "diff": (uplift.get("diff") or 0) * 100,
    }
    if lo is None or hi is None:
        return words
    interval = _("With 95%% confidence the effect lies between %(lo)+.1f and %(hi)+.1f points.") % {
        "lo": lo * 100,
        "hi": hi * 100,
    }
    if lo > 0:
        verdict = _("The campaign made a difference.")
    elif hi < 0:
        verdict = _("Contacted members bought less than the holdout.")
    else:
        verdict = _("Not yet distinguishable from chance.")
    # Chinese sentences end in "。" and run on without a space; English ones need one.
    space = "" if (get_language() or "").startswith("zh") else " "
    return space.join((words, interval, verdict))


def report_context(campaign: Campaign) -> dict[str, Any] | None:
    if campaign.status == Campaign.Status.DRAFT:
        return None
    if campaign.status == Campaign.Status.SCHEDULED and not campaign.runs.exists():
        return None  # nothing sent yet: a report of zeros says nothing
    figures = report.report(campaign)
    reasons = dict(Target.Reason.choices)
    suppressed = figures.get("suppressed") or {}
    return {
        **figures,
        "suppressed_rows": [(str(reasons.get(k, k)), n) for k, n in suppressed.items()],
        "suppressed_total": sum(suppressed.values()),
        "uplift_words": (
            uplift_words(figures.get("uplift") or {})
            if figures.get("holdout") or campaign.holdout_percent
            else _("No holdout was kept, so the effect cannot be measured.")
        ),
    }


def recent_messages(actor: Actor, campaign: Campaign) -> list[dict[str, Any]]:
    rows = Message.objects.filter(campaign=campaign).select_related("member")[:RECENT_MESSAGES]
    return [
        {
            "message": message,
            "member": message.member.name or message.member.card_no,
            "mobile": shown_mobile(actor, message.member),
        }
        for message in rows
    ]


@may_use
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    actor: Actor = request.actor
    campaign = campaign_or_404(actor, campaign_id)
    mine = store_activities.may_change(actor, campaign.owner_store_id)
    context = {
        "campaign": campaign,
        "run": current_run(campaign),
        "report": report_context(campaign),
        "recent": recent_messages(actor, campaign),
        "buttons": [
            name for name, (_n, shown) in ACTIONS.items() if mine and campaign.status in shown
        ],
        "editable": mine and campaign.status in EDITABLE,
        "size": audience_size(actor.merchant, campaign),
        "body": json.dumps(campaign.actions, ensure_ascii=False),
    }
    return render(request, "campaigns/detail.html", context)


@may_use
def campaign_progress(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The current run's progress bar; htmx polls it every 2 s while the run is going."""
    campaign = campaign_or_404(request.actor, campaign_id)
    context = {"campaign": campaign, "run": current_run(campaign)}
    return render(request, "campaigns/_progress.html", context)


@may_use
@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    actor: Actor = request.actor
    campaign = campaign_or_404(actor, campaign_id)
    if action not in ACTIONS:
        raise Http404(_("No such action"))
    try:
        getattr(services, ACTIONS[action][0])(actor, campaign)
    except store_activities.NotYourStore:
        raise PermissionDenied from None
    except DomainError as problem:
        messages.error(request, str(problem))
    else:
        done = {
            "launch": _("Campaign %(name)s launched."),
            "pause": _("Campaign %(name)s paused."),
            "resume": _("Campaign %(name)s resumed."),
            "cancel": _("Campaign %(name)s cancelled."),
        }
        messages.success(request, done[action] % {"name": campaign.name})
    return redirect("campaigns:detail", campaign.pk)


# ---------------------------------------------------------------------------------- preview


def random_member(actor: Actor, campaign: Campaign) -> Member | None:
    if campaign.audience:
        pool = audience.members(actor.merchant, campaign.audience)
    else:
        pool = members_for(actor).filter(status="active")
    return pool.order_by("?").first()


def sample_context() -> dict[str, Any]:
    """Example values for the variables a trigger supplies (points expiring, a coupon)."""
    in_a_week = timezone.localdate() + dt.timedelta(days=7)
    return {"points": 1280, "expires_at": in_a_week.isoformat(), "coupon": _("sample coupon")}


def rendered_messages(actor: Actor, campaign: Campaign, member: Member) -> list[dict[str, Any]]:
    """Each message action of the campaign as this member would get it."""
    labels = dict(Channel.choices)
    shown = []
    for action in campaign.actions:
        if action.get("type") != "message":
            continue
        row: dict[str, Any] = {"channel": labels.get(action.get("channel"), "")}
        try:
            template = templating.resolve(actor.merchant, action.get("template"))
            language, subject, body = templating.render(
                template, member, sample_context(), channel=action.get("channel")
            )
        except DomainError as problem:
            row["error"] = str(problem)
        else:
            row.update(subject=subject, body=body, language=language)
        shown.append(row)
    return shown


@may_use
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A message as one member would read it: a member searched for, or a random one of the
    audience. Mobiles masked for roles that may not see them."""
    actor: Actor = request.actor
    campaign = campaign_or_404(actor, campaign_id)
    q = (request.GET.get("q") or "").strip()[:60]
    member: Member | None = None
    if request.GET.get("random"):
        member = random_member(actor, campaign)
    elif (member_id := request.GET.get("member", "")).isdigit():
        member = members_for(actor).filter(pk=int(member_id)).first()
    found = list(search_members(actor, q)[:10]) if q else []
    context = {
        "campaign": campaign,
        "q": q,
        "found": [(m, shown_mobile(actor, m)) for m in found],
        "member": member,
        "member_mobile": shown_mobile(actor, member) if member else "",
        "rendered": rendered_messages(actor, campaign, member) if member else [],
        "searched": bool(q),
    }
    template = "campaigns/_preview.html" if wants_fragment(request) else "campaigns/preview.html"
    return render(request, template, context)
