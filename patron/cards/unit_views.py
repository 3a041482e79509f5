"""Console pages of agreement units (协议单位, F-02): list, add and edit, the unit's page with
its members and group enrolment; and enrolling the customer of an anonymous sale from its
receipt."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.cards import enrolment, units
from patron.cards.enrol_wiring import ENROL_ROLES
from patron.cards.unit_forms import EnrolFromSaleForm, GroupForm, UnitForm
from patron.core.errors import DomainError, NotFound
from patron.members.models import AgreementUnit
from patron.members.validation import mask_mobile
from patron.sales import selectors as sales_selectors
from patron.sales import views as sales_views
from patron.sales.forms import RefundForm
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

may_see = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
may_edit = require_role(Role.HQ_ADMIN)
may_enrol_group = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
may_enrol_sale = require_role(*ENROL_ROLES)
MEMBERS_PER_PAGE = 50


def unit_or_404(actor: Actor, code: str) -> AgreementUnit:
    try:
        return units.unit_for(actor, code)
    except NotFound:
        raise Http404(_("Agreement unit not found")) from None


@may_see
def unit_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    today = enrolment.local_today(actor.merchant)
    names = units.category_names(actor.merchant.pk)
    rows = [
        (
            unit,
            units.is_current(unit, today),
            units.shown_contact_mobile(actor, unit),
            units.discount_shown(unit.discount, names),
        )
        for unit in units.units_for(actor)
    ]
    context = {"rows": rows, "may_edit": actor.role == Role.HQ_ADMIN}
    return render(request, "cards/units/list.html", context)


def _save(request: HttpRequest, unit: AgreementUnit | None) -> HttpResponse:
    actor: Actor = request.actor
    form = UnitForm(request.POST or None, actor=actor, unit=unit)
    if request.method == "POST" and form.is_valid():
        code = unit.code if unit is not None else form.cleaned_data["code"]
        try:
            saved, created = units.save_unit(actor, code, form.service_data())
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            if created:
                messages.success(request, _("Agreement unit %(name)s added.") % {"name": saved})
            else:
                messages.success(request, _("Agreement unit %(name)s saved.") % {"name": saved})
            return redirect("units:detail", code=saved.code)
    return render(request, "cards/units/form.html", {"form": form, "unit": unit})


@may_edit
def unit_add(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@may_edit
def unit_edit(request: HttpRequest, code: str) -> HttpResponse:
    return _save(request, unit_or_404(request.actor, code))


def render_detail(
    request: HttpRequest,
    unit: AgreementUnit,
    form: GroupForm | None = None,
    result: units.GroupResult | None = None,
) -> HttpResponse:
    actor: Actor = request.actor
    page = Paginator(units.unit_members(unit).select_related("store"), MEMBERS_PER_PAGE)
    shown = page.get_page(request.GET.get("page"))
    may_group = actor.role in (Role.HQ_ADMIN, Role.STORE_MANAGER)
    today = enrolment.local_today(actor.merchant)
    context = {
        "unit": unit,
        "current": units.is_current(unit, today),
        "contact_mobile": units.shown_contact_mobile(actor, unit),
        "discount": units.discount_shown(unit.discount, units.category_names(unit.merchant_id)),
        "page": shown,
        "members": [(m, mask_mobile(m.mobile)) for m in shown],
        "group_form": (form or GroupForm()) if may_group else None,
        "result": result,
        "may_edit": actor.role == Role.HQ_ADMIN,
    }
    return render(request, "cards/units/detail.html", context)


@may_see
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    return render_detail(request, unit_or_404(request.actor, code))


@may_enrol_group
@require_POST
def unit_enrol(request: HttpRequest, code: str) -> HttpResponse:
    """Register or move many people under the unit; the result lists each row."""
    actor: Actor = request.actor
    unit = unit_or_404(actor, code)
    form = GroupForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_detail(request, unit, form)
    try:
        upload = form.cleaned_data.get("file")
        if upload:
            people = units.people_from_file(upload, upload.name)
        else:
            people = units.people_from_text(form.cleaned_data["people"])
        result = units.enrol_group(actor, unit, people)
    except DomainError as problem:
        form.add_error(None, str(problem))
        return render_detail(request, unit, form)
    unit = unit_or_404(actor, code)  # the member count moved
    return render_detail(request, unit, GroupForm(), result)


@may_enrol_sale
@require_POST
def enrol_sale(request: HttpRequest, pk: int) -> HttpResponse:
    """Enrol the customer of an anonymous sale from its receipt, the sale qualifying."""
    actor: Actor = request.actor
    try:
        sale = sales_selectors.sale_for(actor, pk)
    except NotFound:
        raise Http404(_("Sale not found")) from None
    receipt = reverse("sales:receipt", args=[sale.pk])
    if sale.member_id is not None:  # sent twice: the first one enrolled them
        messages.info(request, _("This sale already belongs to a member."))
        return redirect(receipt)
    offer = enrolment.offer_for(sale)
    form = EnrolFromSaleForm(request.POST, min_age=offer.min_age if offer else None)
    if offer is not None and form.is_valid():
        try:
            member = enrolment.enrol_from_sale(actor, sale, form.service_data())
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(
                request,
                _("Member %(name)s registered, card number %(card)s; this sale is theirs.")
                % {"name": member.name or member.card_no, "card": member.card_no},
            )
            return redirect(receipt)
    request.enrol_form = form  # the receipt's offer shows it with its errors
    return sales_views.render_receipt(request, sale, RefundForm(sale=sale))
