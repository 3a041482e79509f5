"""The cashier screen (F-50): sell at the till, print the receipt, refund from it.

`quote` hands each key the cashier presses to the till's state machine (`patron.sales.till`)
and renders what it says; `commit` records the sale with `services.commit_sale` under the
one-time key rendered with the basket, so a double submit or a retry is one sale. Domain errors
come back onto the page, never as a 500.

Who may sell: HQ admins (in the store they choose), store managers and cashiers (in their own
store, which the services enforce). Marketers get the 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import Template, TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from patron.core.errors import DomainError, NotFound
from patron.core.htmx import htmx_redirect, wants_fragment
from patron.core.keyset import console_page
from patron.core.money import yuan
from patron.ledger import payments
from patron.members.validation import mask_mobile
from patron.sales import receipt_panels, selectors, services
from patron.sales import till as machine
from patron.sales.basket import Baskets
from patron.sales.forms import ApprovalForm, RefundForm, StoreQuery, Till, read_till
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import active_stores

SELLING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
TODAY_PAGE_SIZE = 100  # a busy store sells thousands a day: read them a page at a time
may_sell = require_role(*SELLING_ROLES)

STORE_CHOICE = "sales.store"  # session: the store an HQ admin sells in


def sale_or_404(actor: Actor, pk: Any) -> Sale:
    try:
        return selectors.sale_for(actor, pk)
    except NotFound:
        raise Http404(_("Sale not found")) from None


def chosen_store(request: HttpRequest, query: StoreQuery) -> Store | None:
    """The store-bound role's own store; for HQ the one picked (?store=) or remembered."""
    actor: Actor = request.actor
    if actor.store_bound is not None:
        return actor.store_bound
    stores = active_stores(actor.merchant)
    if query.given():
        picked = query.store_code()
        store = stores.filter(code=picked).first() if picked else None
        if store is not None:
            request.session[STORE_CHOICE] = store.code
        return store
    remembered = request.session.get(STORE_CHOICE)
    return stores.filter(code=remembered).first() if remembered else None


# --- the till --------------------------------------------------------------------------------


def catalogue_panel() -> Template | None:
    """The catalogue's search and favourites (`sales/_catalogue_panel.html`) when it is
    there: the till leaves a column for it beside the scan box."""
    try:
        return get_template("sales/_catalogue_panel.html")
    except TemplateDoesNotExist:
        return None


def baskets(request: HttpRequest) -> Baskets:
    return Baskets(request.session, request.actor.merchant.pk)


def render_till(
    request: HttpRequest, basket: Till, step: machine.Step, *, keep: bool = True
) -> HttpResponse:
    actor: Actor = request.actor
    context = machine.screen(actor, basket, step)
    store = context["store"]
    if keep and store is not None:
        # Kept as shown: a reload (F5) opens the same basket (patron.sales.basket).
        baskets(request).keep(store.pk, basket)
    fragment = wants_fragment(request)
    if not fragment:
        context["day"] = selectors.till_day(actor, store) if store is not None else None
        context["catalogue_panel"] = catalogue_panel()
        context["may_set_limit"] = actor.role == Role.STORE_MANAGER
    template = "sales/_till_state.html" if fragment else "sales/till.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@may_sell
@require_GET
def till(request: HttpRequest) -> HttpResponse:
    """The open basket of this store (a reload keeps it), or a new one; HQ first picks the
    store it sells in."""
    query = StoreQuery(request.GET)
    store = None if query.wants_to_pick() else chosen_store(request, query)
    if store is None:
        stores = active_stores(request.actor.merchant)
        return render(request, "sales/choose_store.html", {"stores": stores})
    bound = request.actor.store_bound is not None
    basket = baskets(request).open(store.pk, "" if bound else store.code)
    return render_till(request, basket, machine.Step(), keep=False)


@may_sell
@require_POST
def quote(request: HttpRequest) -> HttpResponse:
    """Apply one operation (`op`, e.g. `scan`, `more:2`) to the posted basket and re-price."""
    name, _sep, arg = str(request.POST.get("op", "quote")).partition(":")
    memory = machine.SkuMemory(request.session, request.actor.merchant.pk)
    press = machine.Press(request.actor, request.POST, arg, memory)
    basket, step = machine.apply(name, press, read_till(request.POST))
    return render_till(request, basket, step)


@may_sell
@require_POST
def commit(request: HttpRequest) -> HttpResponse:
    """Record the sale once per one-time key and show its receipt."""
    basket = read_till(request.POST)
    if basket.has_errors or basket.dropped_lines:
        return render_till(request, basket, machine.Step(focus=""))
    try:
        paid = machine.sale_to_commit(request.actor, basket)
        sale = services.commit_sale(request.actor, paid, key=f"till:{basket.key}")
    except DomainError as problem:
        return render_till(request, basket, machine.refused(problem))
    baskets(request).drop(sale.store_id)
    if sale.replayed:
        messages.info(request, _("This sale was already recorded; it was not charged again."))
    return htmx_redirect(request, reverse("sales:receipt", args=[sale.pk]))


# --- receipt and refunds ---------------------------------------------------------------------


def cashier_of(sale: Sale) -> str:
    return selectors.done_by(sale.user, sale.api_key)


def render_receipt(
    request: HttpRequest, sale: Sale, form: RefundForm, confirm: RefundConfirmation | None = None
) -> HttpResponse:
    shown = selectors.receipt(sale)
    member = sale.member
    context = {
        "sale": sale,
        "lines": [
            (line, form.quantity_field(line), line.quantity - line.refunded_quantity)
            for line in shown.lines
        ],
        "discounts": shown.discounts,
        "member": member,
        # The slip goes home with the member: never the whole mobile on paper (F-45).
        "receipt_mobile": mask_mobile(member.mobile) if member else "",
        "after": shown.after,
        "tenders": shown.tenders,
        "cashier": cashier_of(sale),
        "refunds": shown.refunds,
        "refundable": any(line.quantity > line.refunded_quantity for line in shown.lines),
        "form": form,
        "refund_key": form.key_value(),
        "confirm": confirm,
        "extra_panels": receipt_panels.rendered(request, sale),
    }
    return render(request, "sales/receipt.html", context)


@may_sell
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    sale = sale_or_404(request.actor, pk)
    return render_receipt(request, sale, RefundForm(sale=sale))


@dataclass
class RefundConfirmation:
    """The step between asking for a refund and recording it: what goes back, and whether a
    store manager must approve it (the store's `refund_approval_above`)."""

    ask: services.RefundAsk
    amount: int
    approval: ApprovalForm | None  # None: no manager needed
    picked: list[tuple[str, int]]


def confirmation(request: HttpRequest, sale: Sale, ask: services.RefundAsk, amount: int):
    actor: Actor = request.actor
    approval = None
    if services.needs_approval(actor, sale, amount):
        data = request.POST if "approve" in request.POST else None
        approval = ApprovalForm(data, sale=sale, request=request)
    picked = (
        list(ask.lines)
        if not ask.all
        else [
            (line.sku, line.quantity - line.refunded_quantity)
            for line in sale.lines.order_by("position")
            if line.quantity > line.refunded_quantity
        ]
    )
    return RefundConfirmation(ask=ask, amount=amount, approval=approval, picked=picked)


@may_sell
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Refund some quantities of a sale, or all of what is left (`all`), in two steps: the
    first shows what goes back and asks to confirm (and, above the store's limit, for a store
    manager's password); the second (`confirm`) records it. Nothing is written before."""
    actor: Actor = request.actor
    sale = sale_or_404(actor, pk)
    form = RefundForm(request.POST, sale=sale)
    if not form.is_valid():
        return render_receipt(request, sale, form)
    try:
        ask = form.ask(everything="all" in request.POST)
    except forms.ValidationError as problem:
        form.add_error(None, problem)
        return render_receipt(request, sale, form)
    key = f"till-refund:{form.key_value()}"
    done = selectors.refund_for_key(actor, key)
    if done is not None:  # sent twice (a double click, a reload): recorded once
        done.replayed = True
        announce_refund(request, done)
        return redirect(reverse("sales:receipt", args=[sale.pk]) + f"#refund-{done.pk}")
    try:
        amount = services.refund_amount(actor, sale, ask)
    except DomainError as problem:
        form.place_problem(ask, problem)
        return render_receipt(request, sale, form)
    confirm = confirmation(request, sale, ask, amount)
    if "confirm" not in request.POST:
        return render_receipt(request, sale, form, confirm)
    approver = None
    if confirm.approval is not None:
        if not confirm.approval.is_valid():
            return render_receipt(request, sale, form, confirm)
        approver = confirm.approval.approver
    try:
        done = services.refund_sale(actor, sale, ask, key=key, approver=approver)
    except DomainError as problem:
        form.place_problem(ask, problem)
        sale.refresh_from_db()
        return render_receipt(request, sale, form)
    announce_refund(request, done)
    return redirect(reverse("sales:receipt", args=[sale.pk]) + f"#refund-{done.pk}")


def announce_refund(request: HttpRequest, done) -> None:
    if getattr(done, "replayed", False):
        messages.info(request, _("This refund was already recorded; nothing was refunded twice."))
        return
    # Each way the money goes back, in words: 微信支付 ¥33.34, 现金 ¥16.00, 储值 ¥12.29.
    parts = [
        f"{payments.label(row.method)} {yuan(row.amount)}"
        for row in getattr(done, "tender_rows", [])
    ]
    if done.stored_value_returned:
        parts.append(_("stored value %(amount)s") % {"amount": yuan(done.stored_value_returned)})
    messages.success(
        request,
        _("Refund recorded: %(amount)s back (%(how)s).")
        % {"amount": yuan(done.amount), "how": ", ".join(parts) or "—"},
    )


# --- today's sales ---------------------------------------------------------------------------


@may_sell
@require_GET
def sales_today(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    query = StoreQuery(request.GET)
    everywhere = actor.store_bound is None and query.store_code() == "all"
    store = None if everywhere else chosen_store(request, query)
    sales = selectors.todays_sales(actor, store)
    shown = console_page(
        sales, selectors.TODAYS_ORDERING, TODAY_PAGE_SIZE, request.GET.get("cursor")
    )
    for sale in shown.page.items:
        sale.cashier = cashier_of(sale)  # a name, never a user name like `cli` or `api`
    context = {
        "sales": shown.page.items,
        "page": shown.page,
        "cursor_ignored": shown.ignored,
        "figures": selectors.sales_figures(sales),
        "refunded": selectors.refunds_today(actor, None if everywhere else store),
        "store": store,
        "everywhere": everywhere,
        "stores": active_stores(actor.merchant) if actor.store_bound is None else [],
        "today": selectors.start_of_today(),
    }
    return render(request, "sales/sales_list.html", context)
