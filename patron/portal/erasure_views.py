"""Console: members' erasure (account deletion) requests; staff settle and complete them.

HQ admins see every request, store managers those of their store's members. The detail page
shows the member's name and mobile (masked unless the role sees personal data; a full view
is audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from patron.core.errors import DomainError
from patron.ledger import payments
from patron.members.services import record_personal_data_view
from patron.members.validation import mask_mobile
from patron.portal import privacy
from patron.portal.models import ErasureRequest
from patron.portal.privacy_forms import CompleteForm
from patron.sales.models import MemberPin
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
PAGE_SIZE = 50


def _mobile(actor: Actor, request: ErasureRequest) -> str:
    mobile = request.member.mobile
    if request.status == ErasureRequest.Status.COMPLETED:
        return "—"  # the placeholder of an erased member means nothing to anyone
    return mobile if actor.sees_personal_data else mask_mobile(mobile)


@require_role(*ROLES)
def requests(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    status = request.GET.get("status") or ErasureRequest.Status.PENDING
    if status not in ErasureRequest.Status.values:
        status = ErasureRequest.Status.PENDING
    page = Paginator(privacy.requests_for(actor).filter(status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(row, _mobile(actor, row)) for row in page]
    context = {"page": page, "rows": rows, "status": status, "statuses": ErasureRequest.Status}
    return render(request, "portal/console/erasure_list.html", context)


@require_role(*ROLES)
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    erasure = privacy.requests_for(actor).filter(pk=pk).first()
    if erasure is None:
        raise Http404
    pending = erasure.status == ErasureRequest.Status.PENDING
    form = CompleteForm(request.POST if request.method == "POST" and pending else None)
    if form.is_bound and form.is_valid():
        try:
            privacy.complete_erasure(
                actor,
                erasure,
                method=form.cleaned_data["payment_method"],
                pin=form.cleaned_data["pin"] or None,
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Refunded and erased: the member's data is gone."))
            return redirect("portal_admin:erasure_detail", pk=erasure.pk)
    if pending and actor.sees_personal_data:
        record_personal_data_view(actor, erasure.member)
    context = {
        "erasure": erasure,
        "mobile": _mobile(actor, erasure),
        "pending": pending,
        "form": form,
        "now": privacy.settlement(actor, erasure.member) if pending else None,
        "needs_pin": pending and MemberPin.objects.filter(member=erasure.member).exists(),
        "method_label": payments.label((erasure.settlement.get("done") or {}).get("method", "")),
    }
    return render(
        request, "portal/console/erasure_detail.html", context, status=422 if form.errors else 200
    )
