"""Console pages of the shift close (交班).

A cashier closes their own shift at the store they sell in (HQ: the store chosen at the till);
the list shows closed shifts: a cashier's own, a store manager's store's, HQ every store's.
The slip is a page of its own, 80 mm wide, for the receipt printer.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.core.errors import DomainError, NotFound
from patron.sales.forms import StoreQuery
from patron.sales.selectors import done_by
from patron.sales.views import SELLING_ROLES, chosen_store
from patron.shifts import selectors, services
from patron.shifts.forms import CloseShiftForm
from patron.shifts.models import Shift
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import active_stores

may_work = require_role(*SELLING_ROLES)
LIST_SIZE = 200


def shift_or_404(actor: Actor, pk: Any) -> Shift:
    try:
        return selectors.shift_for(actor, pk)
    except NotFound:
        raise Http404(_("Shift not found")) from None


@may_work
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest) -> HttpResponse:
    """The acting user's open shift at their store: its figures, and the cash they count."""
    actor: Actor = request.actor
    store = chosen_store(request, StoreQuery(request.GET))
    if store is None:
        return redirect(reverse("sales:till") + "?pick=1")
    window = selectors.open_window(actor, actor.user, store)
    taken = selectors.figures(actor.merchant, store, actor.user, window.started_at)
    form = CloseShiftForm.for_window(window.started_at)
    counted = None
    if request.method == "POST":
        form = CloseShiftForm(request.POST)
        checking = request.POST.get("op") == "check"
        if form.is_valid() and checking:
            counted = form.cleaned_data["cash_counted"]  # shown with its difference first
        elif form.is_valid():
            try:
                shift = services.close_shift(
                    actor,
                    store,
                    form.cleaned_data["cash_counted"],
                    since=form.since_value(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as problem:
                form.add_service_errors(problem)
            else:
                messages.success(request, _("Shift closed. Print the slip for the store manager."))
                return redirect("shifts:detail", pk=shift.pk)
    context = {
        "store": store,
        "window": window,
        "figures": taken,
        "has_activity": selectors.has_activity(taken) or window.explicit is not None,
        "form": form,
        "counted": counted,
        "difference": None if counted is None else counted - taken.cash_expected,
        "cashier": done_by(actor.user, None),
    }
    return render(request, "shifts/close.html", context)


@may_work
@require_POST
def open_now(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    store = chosen_store(request, StoreQuery(request.GET))
    if store is None:
        return redirect(reverse("sales:till") + "?pick=1")
    try:
        services.open_shift(actor, store)
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    return redirect("shifts:close")


@may_work
@require_GET
def shift_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    query = StoreQuery(request.GET)
    store = None
    if actor.store_bound is None and query.given() and query.store_code():
        store = active_stores(actor.merchant).filter(code=query.store_code()).first()
    shifts = selectors.closed_shifts(actor, store)
    context = {
        "shifts": shifts[:LIST_SIZE],
        "store": store,
        "stores": active_stores(actor.merchant) if actor.store_bound is None else [],
        "whose": _whose(actor),
    }
    return render(request, "shifts/list.html", context)


def _whose(actor: Actor) -> str:
    if actor.role == Role.CASHIER:
        return _("Your shifts")
    if actor.store_bound is not None:
        return _("Shifts at %(store)s") % {"store": actor.store_bound.name}
    return _("Shifts at every store")


def _shown(request: HttpRequest, pk: int) -> dict[str, Any]:
    shift = shift_or_404(request.actor, pk)
    return {
        "shift": shift,
        "figures": selectors.frozen(shift),
        "cashier": done_by(shift.user, None),
    }


@may_work
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "shifts/detail.html", _shown(request, pk))


@may_work
@require_GET
def slip(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "shifts/slip.html", _shown(request, pk))
