"""The cashier screen (F-50): sell at the till, print the receipt, refund from it.

`quote` hands each key the cashier presses to the till's state machine (`patron.sales.till`)
and renders what it says; `commit` records the sale with `services.commit_sale` under the
one-time key rendered with the basket, so a double submit or a retry is one sale. Domain errors
come back onto the page, never as a 500.

Who may sell: HQ admins (in the store they choose), store managers and cashiers (in their own
store, which the services enforce). Marketers get the 403 page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from patron.core.errors import DomainError, NotFound
from patron.core.htmx import htmx_redirect, wants_fragment
from patron.core.money import yuan
from patron.ledger import payments
from patron.members.validation import mask_mobile
from patron.sales import selectors, services
from patron.sales import till as machine
from patron.sales.forms import RefundForm, StoreQuery, Till, read_till
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import active_stores

SELLING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
may_sell = require_role(*SELLING_ROLES)

STORE_CHOICE = "sales.store"  # session: the store an HQ admin sells in


def sale_or_404(actor: Actor, pk: Any) -> Sale:
    try:
        return selectors.sale_for(actor, pk)
    except NotFound:
        raise Http404(_("Sale not found")) from None


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


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


def render_till(request: HttpRequest, basket: Till, step: machine.Step) -> HttpResponse:
    context = machine.screen(request.actor, basket, step)
    template = "sales/_till_state.html" if wants_fragment(request) else "sales/till.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@may_sell
@require_GET
def till(request: HttpRequest) -> HttpResponse:
    """A new, empty basket; HQ first picks the store it sells in."""
    query = StoreQuery(request.GET)
    store = None if query.wants_to_pick() else chosen_store(request, query)
    if store is None:
        stores = active_stores(request.actor.merchant)
        return render(request, "sales/choose_store.html", {"stores": stores})
    bound = request.actor.store_bound is not None
    return render_till(request, Till.empty("" if bound else store.code), machine.Step())


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
    if sale.replayed:
        messages.info(request, _("This sale was already recorded; it was not charged again."))
    return htmx_redirect(request, reverse("sales:receipt", args=[sale.pk]))


# --- receipt and refunds ---------------------------------------------------------------------


def cashier_of(sale: Sale) -> str:
    if sale.user_id:
        return person_name(sale.user)
    if sale.api_key_id:
        return _("API key %(name)s") % {"name": sale.api_key.name}
    return _("System")


def render_receipt(request: HttpRequest, sale: Sale, form: RefundForm) -> HttpResponse:
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
    }
    return render(request, "sales/receipt.html", context)


@may_sell
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    sale = sale_or_404(request.actor, pk)
    return render_receipt(request, sale, RefundForm(sale=sale))


@may_sell
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Refund some quantities of a sale, or all of what is left (`all`)."""
    actor: Actor = request.actor
    sale = sale_or_404(actor, pk)
    form = RefundForm(request.POST, sale=sale)
    if form.is_valid():
        try:
            ask = form.ask(everything="all" in request.POST)
        except forms.ValidationError as problem:
            form.add_error(None, problem)
        else:
            try:
                done = services.refund_sale(actor, sale, ask, key=f"till-refund:{form.key_value()}")
            except DomainError as problem:
                form.place_problem(ask, problem)
            else:
                announce_refund(request, done)
                return redirect(reverse("sales:receipt", args=[sale.pk]) + f"#refund-{done.pk}")
    sale.refresh_from_db()
    return render_receipt(request, sale, form)


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
    context = {
        "sales": sales[:500],
        "figures": selectors.sales_figures(sales),
        "store": store,
        "everywhere": everywhere,
        "stores": active_stores(actor.merchant) if actor.store_bound is None else [],
        "today": selectors.start_of_today(),
    }
    return render(request, "sales/sales_list.html", context)
