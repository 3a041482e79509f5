"""Console pages of the catalogue: the list with live search, add, edit, (de)activate.

Every staff role may look products up; HQ admins and store managers may change them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.catalogue import selectors, services
from patron.catalogue.forms import ProductFilterForm, ProductForm
from patron.catalogue.models import Product
from patron.core.errors import DomainError
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import console_view, require_role

PAGE_SIZE = 50
EDITING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
may_edit = require_role(*EDITING_ROLES)


def can_edit(actor: Actor) -> bool:
    return actor.role in EDITING_ROLES


def product_or_404(actor: Actor, pk: int) -> Product:
    product = selectors.products(actor).filter(pk=pk).first()
    if product is None:
        raise Http404(_("Product not found"))
    return product


def wants_results_only(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@console_view
def product_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    filters = ProductFilterForm(request.GET or None, actor=actor)
    found = selectors.search_products(actor, **filters.criteria())
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "can_edit": can_edit(actor),
        "hx_target": "#product-results",
    }
    template = "catalogue/_results.html" if wants_results_only(request) else "catalogue/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _save(request: HttpRequest, form: ProductForm, sku: str) -> Product | None:
    """The product put through the service; None (and the errors on the form) if refused."""
    try:
        return services.put_product(request.actor, sku, form.service_data()).product
    except DomainError as problem:
        form.add_service_errors(problem)
        return None


@may_edit
def product_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = ProductForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        sku = form.cleaned_data["sku"].strip()
        if selectors.products(actor).filter(sku=sku).exists():
            form.add_error("sku", _("A product has this SKU already: find it in the list."))
        elif (product := _save(request, form, sku)) is not None:
            messages.success(request, _("Product %(product)s added.") % {"product": product})
            return redirect("catalogue:list")
    return render(request, "catalogue/form.html", {"form": form, "product": None})


@may_edit
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    product = product_or_404(actor, pk)
    form = ProductForm(request.POST or None, actor=actor, product=product)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, product.sku)
        if saved is not None:
            messages.success(request, _("Product %(product)s saved.") % {"product": saved})
            return redirect("catalogue:list")
    return render(request, "catalogue/form.html", {"form": form, "product": product})


@require_POST
@may_edit
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (`active=0`) or reactivate (`active=1`) a product."""
    actor = request.actor
    product = product_or_404(actor, pk)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        raise PermissionDenied
    try:
        services.set_product_active(actor, product, wanted == "1")
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        if product.is_active:
            messages.success(request, _("%(product)s is on sale again.") % {"product": product})
        else:
            messages.success(
                request,
                _("%(product)s is deactivated: the till no longer finds it.")
                % {"product": product},
            )
    return redirect(back_to_list(request.POST.get("next")))


def back_to_list(posted: str | None) -> str:
    """The list page the button was on (its search and page), never another site."""
    here = reverse("catalogue:list")
    if posted and posted.startswith(here) and url_has_allowed_host_and_scheme(posted, None):
        return posted
    return here
