"""Console pages for paid memberships (F-12) and the PIN reset (F-07): the member page's
panel, buying or renewing with a confirm step, refunding, and the list of periods.

Writes go through `patron.cards.memberships` / `patron.cards.pins` under a one-time token, so
a double click is one purchase. Cashiers and managers sell at the counter; HQ and store
managers see the list (a store manager their store's members).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.cards import membership_selectors as selectors
from patron.cards import memberships, pins
from patron.cards.membership_forms import BuyForm, PinResetForm, RefundForm, paid_products
from patron.cards.models import Membership
from patron.core.errors import DomainError
from patron.ledger import payments
from patron.members.models import Member
from patron.members.selectors import member_or_404
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

COUNTER_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
LIST_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
PAGE_SIZE = 50


def member_page(member: Member) -> str:
    return reverse("members:detail", args=[member.pk]) + "#member-membership"


# --- the member page's panel -----------------------------------------------------------------


def membership_panel(request: HttpRequest, member: Member) -> SafeString:
    """The 'Paid membership' card of the member page (a members.profile panel)."""
    context = {
        "member": member,
        "standing": selectors.standing(member),
        "may_sell": request.actor.role in COUNTER_ROLES or request.actor.staff is None,
        "has_products": bool(paid_products(member.merchant)),
        "pin_form": PinResetForm(auto_id="pin_%s"),
    }
    return render_to_string("cards/memberships/_panel.html", context, request=request)


# --- buy or renew ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_role(*COUNTER_ROLES)
def buy(request: HttpRequest, member_id: int) -> HttpResponse:
    """Choose (GET) -> check (POST step=preview: the amount and the new period) -> confirm."""
    actor = request.actor
    member = member_or_404(actor, member_id)
    step = request.POST.get("step", "preview")
    if request.method != "POST" or step == "edit":
        source = request.POST if step == "edit" else request.GET
        initial = {key: source.get(key, "")[:32] for key in ("product", "payment_method")}
        form = BuyForm(merchant=actor.merchant, initial={k: v for k, v in initial.items() if v})
        return _buy_page(request, member, form)
    form = BuyForm(request.POST, merchant=actor.merchant, needs_token=step == "confirm")
    if not form.is_valid():
        return _buy_page(request, member, form)
    if step != "confirm":
        return _buy_page(request, member, form, preview=_preview(member, form))
    try:
        bought = memberships.buy_membership(
            actor,
            member,
            form.cleaned_data["product"],
            method=form.cleaned_data["payment_method"],
            key=f"console-membership:{form.cleaned_data['token']}",
        )
    except DomainError as problem:
        form.add_service_errors(problem)
        return _buy_page(request, member, form)
    messages.success(
        request,
        _("%(product)s sold: valid until %(until)s.")
        % {"product": bought.product.name, "until": _local(bought.valid_until)},
    )
    return redirect(member_page(member))


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _preview(member: Member, form: BuyForm) -> dict:
    product = form.chosen
    now = timezone.now()
    until = memberships.paid_until(member, now)
    start = max(now, until) if until else now
    return {
        "product": product,
        "tier_name": selectors.tier_names(member.merchant).get(product.tier_code, ""),
        "amount": product.fee,
        "method_label": payments.label(form.cleaned_data["payment_method"]),
        "valid_from": start,
        "valid_until": start + product.paid_days * memberships.DAY,
        "renewal": until is not None,
        "token": form.token_value(),
    }


def _buy_page(request, member, form, preview=None) -> HttpResponse:
    context = {"member": member, "form": form, "preview": preview}
    return render(request, "cards/memberships/buy.html", context)


# --- refund ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_role(*COUNTER_ROLES)
def refund(request: HttpRequest, member_id: int, membership_id: int) -> HttpResponse:
    actor = request.actor
    member = member_or_404(actor, member_id)
    period = (
        Membership.objects.filter(member=member, pk=membership_id).select_related("product").first()
    )
    if period is None:
        return render(request, "404.html", status=404)
    form = RefundForm(request.POST or None, needs_token=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        try:
            done = memberships.refund_membership(
                actor,
                member,
                period.pk,
                method=form.cleaned_data["payment_method"],
                key=f"console-membership-refund:{form.cleaned_data['token']}",
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(
                request,
                _("%(product)s refunded: %(amount)s paid back.")
                % {"product": period.product.name, "amount": f"¥{done.amount / 100:,.2f}"},
            )
            return redirect(member_page(member))
    rule = period.product.refund or {}
    context = {
        "member": member,
        "period": period,
        "form": form,
        "token": form.token_value(),
        "amount": memberships.refund_amount(period),
        "allowed": rule.get("allowed", True) and period.status == Membership.Status.ACTIVE,
        "pro_rata": rule.get("pro_rata", True),
        "days_left": selectors.days_left(period.valid_until),
        "tier_name": selectors.tier_names(member.merchant).get(period.tier_code, ""),
    }
    return render(request, "cards/memberships/refund.html", context)


# --- PIN reset -------------------------------------------------------------------------------


@require_POST
@require_role(*pins.RESET_ROLES)
def pin_reset(request: HttpRequest, member_id: int) -> HttpResponse:
    actor = request.actor
    member = member_or_404(actor, member_id)
    form = PinResetForm(request.POST, auto_id="pin_%s")
    if form.is_valid():
        try:
            pins.reset_member_pin(
                actor,
                member,
                form.cleaned_data["pin"],
                identity_checked=form.cleaned_data["identity_checked"],
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("The member's PIN was reset."))
            return redirect(member_page(member))
    return render(request, "cards/memberships/pin_reset.html", {"member": member, "form": form})


# --- the list --------------------------------------------------------------------------------


@require_GET
@require_role(*LIST_ROLES)
def membership_list(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "active")
    if view not in selectors.VIEWS:
        view = "active"
    rows = selectors.periods(request.actor, view)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    names = selectors.tier_names(request.actor.merchant)
    context = {
        "view": view,
        "page": page,
        "rows": [
            (row, selectors.days_left(row.valid_until, now), names.get(row.tier_code, ""))
            for row in page
        ],
        "counts": {
            name: selectors.periods(request.actor, name, now).count() for name in selectors.VIEWS
        },
        "soon_days": selectors.EXPIRING_SOON_DAYS,
    }
    return render(request, "cards/memberships/list.html", context)
