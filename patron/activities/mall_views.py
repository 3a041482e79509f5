"""Console pages of the points mall: rewards with live stock, the redemption queue (fulfil in
store, ship with a tracking number, cancel), points spent per reward, and redeeming for a
member (also the till's 积分兑换, opened from the till's member card)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.activities import mall, mall_selectors
from patron.activities.mall_forms import FulfilForm, PeriodForm, RedeemForm
from patron.activities.models import Redemption
from patron.core.dates import start_of_day
from patron.core.errors import DomainError
from patron.ledger import payments
from patron.members.models import Member
from patron.members.selectors import member_for, search_members, shown_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import active_stores

COUNTER_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
CANCEL_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
VIEW_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER, Role.MARKETER)
REPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
TILL_STORE = "sales.store"  # the session key where the till remembers HQ's store


@require_GET
@require_role(*VIEW_ROLES)
def rewards(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    counts = mall_selectors.stock_counts(actor)
    rows = [(reward, counts.get(reward.pk, {})) for reward in mall_selectors.rewards(actor)]
    return render(request, "activities/mall/rewards.html", {"rows": rows})


@require_GET
@require_role(*COUNTER_ROLES)
def redemption_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    context = {
        "queue": [(r, mall_selectors.status_label(r)) for r in mall_selectors.queue(actor)[:200]],
        "recent": [
            (r, mall_selectors.status_label(r)) for r in mall_selectors.redemptions(actor)[:50]
        ],
        "fulfil_form": FulfilForm(),
        "may_cancel": actor.role in CANCEL_ROLES,
    }
    return render(request, "activities/mall/redemptions.html", context)


def _redemption_or_404(actor: Actor, pk: int) -> Redemption:
    found = mall_selectors.redemptions(actor).filter(pk=pk).first()
    if found is None:
        raise Http404(_("Not found"))
    return found


@require_GET
@require_role(*COUNTER_ROLES)
def redemption(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    found = _redemption_or_404(actor, pk)
    context = {
        "redemption": found,
        "status_label": mall_selectors.status_label(found),
        "mobile": shown_mobile(actor, found.member),
        "payments": [(p, payments.label(p.method)) for p in found.payments.all()],
        "fulfil_form": FulfilForm(),
        "may_cancel": actor.role in CANCEL_ROLES,
        "from_till": request.GET.get("from") == "till",
    }
    return render(request, "activities/mall/redemption.html", context)


def _back(request: HttpRequest, found: Redemption) -> HttpResponse:
    if request.POST.get("next") == "queue":
        return redirect("mall:redemptions")
    return redirect("mall:redemption", found.pk)


@require_POST
@require_role(*COUNTER_ROLES)
def fulfil(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    found = _redemption_or_404(actor, pk)
    form = FulfilForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("tracking_no", [])))
        return _back(request, found)
    due = found.cash_outstanding
    method = form.cleaned_data.get("method") or payments.CASH
    tenders = [mall.Tender(method, due)] if due else None
    try:
        mall.fulfil(
            actor,
            found,
            tracking_no=form.cleaned_data["tracking_no"],
            tenders=tenders,
            store=counter_store(request),
        )
    except DomainError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, _("Redemption #%(id)s fulfilled.") % {"id": found.pk})
    return _back(request, found)


@require_POST
@require_role(*CANCEL_ROLES)
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    found = _redemption_or_404(actor, pk)
    try:
        mall.cancel(actor, found, store=counter_store(request))
    except DomainError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(
            request,
            _("Redemption #%(id)s cancelled: %(points)s points given back.")
            % {"id": found.pk, "points": found.points},
        )
    return _back(request, found)


def _period(form: PeriodForm) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not form.is_valid():
        return None, None
    start, end = form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to")
    return (
        start_of_day(start) if start else None,
        start_of_day(end + dt.timedelta(days=1)) if end else None,
    )


@require_GET
@require_role(*REPORT_ROLES)
def report(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    start, end = _period(form)
    rows = mall_selectors.points_per_reward(request.actor, start, end)
    if request.GET.get("format") == "xlsx" and (not request.GET or form.is_valid()):
        return _report_xlsx(rows)
    context = {
        "form": form,
        "rows": rows,
        "total_points": sum(row.points for row in rows),
        "total_count": sum(row.redemptions for row in rows),
        "query": request.GET.urlencode(),
    }
    return render(request, "activities/mall/report.html", context)


def _report_xlsx(rows: list[mall_selectors.ReportRow]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Points mall")[:31]
    sheet.append([_("Reward"), _("Code"), _("Redemptions"), _("Points spent"), _("Cash part")])
    for row in rows:
        sheet.append(
            [row.reward.name, row.reward.code, row.redemptions, row.points, row.cash / 100]
        )
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="points-mall.xlsx"'
    return response


# --- redeeming for a member (console and till) -----------------------------------------------


def counter_store(request: HttpRequest) -> Store | None:
    """The store-bound role's store; for HQ the store picked on the page, else the till's."""
    actor: Actor = request.actor
    if actor.store_bound is not None:
        return actor.store_bound
    stores = active_stores(actor.merchant)
    picked = request.POST.get("store") or request.GET.get("store")
    remembered = request.session.get(TILL_STORE)
    code = picked or remembered
    return stores.filter(code=code).first() if code else None


def _find_member(request: HttpRequest) -> tuple[Member | None, str]:
    actor = request.actor
    member_id = request.POST.get("member") or request.GET.get("member")
    if member_id:
        try:
            return member_for(actor, member_id), ""
        except DomainError:
            return None, _("Member not found.")
    q = (request.GET.get("q") or "").strip()[:64]
    if not q:
        return None, ""
    found = list(search_members(actor, q)[:2])
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, _("No member matches “%s”.") % q
    return None, _("Several members match “%s”: type the full mobile or card number.") % q


@require_http_methods(["GET", "POST"])
@require_role(*COUNTER_ROLES)
def redeem(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    member, problem = _find_member(request)
    from_till = (request.POST.get("from") or request.GET.get("from")) == "till"
    error = ""
    if request.method == "POST" and member is not None:
        form = RedeemForm(request.POST)
        if form.is_valid():
            try:
                done = _redeem(request, member, form.cleaned_data)
            except DomainError as refused:
                error = str(refused.detail)
            else:
                messages.success(
                    request,
                    _("Redeemed %(reward)s for %(points)s points.")
                    % {"reward": done.reward.name, "points": done.points},
                )
                url = reverse("mall:redemption", args=[done.pk])
                return redirect(url + ("?from=till" if from_till else ""))
        else:
            error = _("Choose a reward.")
    context: dict[str, Any] = {
        "member": member,
        "problem": problem,
        "error": error,
        "q": request.GET.get("q", ""),
        "from_till": from_till,
        "store": counter_store(request),
        "stores": active_stores(actor.merchant) if actor.store_bound is None else [],
        "nonce": RedeemForm.new_nonce(),
        "methods": payments.CHOICES,
    }
    if member is not None:
        context["mobile"] = shown_mobile(actor, member)
        context["points"] = mall_selectors.member_points(member)
        context["rewards"] = mall_selectors.member_rewards(member)
    return render(request, "activities/mall/redeem.html", context)


def _redeem(request: HttpRequest, member: Member, data: dict[str, Any]) -> Redemption:
    actor = request.actor
    reward = mall.reward_for(actor, data["reward"])
    method = data.get("method") or payments.CASH
    tenders = [mall.Tender(method, reward.cash)] if reward.cash else None
    return mall.redeem(
        actor,
        member,
        reward,
        key=f"console-mall:{actor.user.pk}:{data['nonce']}",
        store=counter_store(request),
        tenders=tenders,
    )


def till_section(actor: Actor, member: Member) -> str:
    """The till's member card: a 积分兑换 button when the merchant has rewards."""
    if actor.role not in COUNTER_ROLES or not mall_selectors.rewards(actor).exists():
        return ""
    url = reverse("mall:redeem") + f"?member={member.pk}&from=till"
    return render_to_string("activities/mall/_till.html", {"url": url})
