"""/m/privacy (F-45, PIPL): see my data, export it (JSON and xlsx), correct it, withdraw
consent, ask to delete my account. The work is in patron.portal.privacy."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from patron.core.errors import DomainError
from patron.portal import privacy as data
from patron.portal.privacy_forms import ConsentForm, CorrectForm, DeleteForm
from patron.portal.session import logout_member, member_actor, member_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    base = {"merchant": request.merchant, "member": request.member, "tab": "privacy"}
    return render(request, template, {**base, **context}, status=status)


@member_page
def privacy(request: HttpRequest) -> HttpResponse:
    member = request.member
    return _page(
        request,
        "portal/privacy.html",
        {
            "overview": data.overview(member),
            "pending": data.pending_request(member),
        },
    )


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    """A private file: saved, never kept by a cache or a proxy on the way."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


@member_page
def export_json(request: HttpRequest) -> HttpResponse:
    member = request.member
    body = data.export_json(member_actor(member, request), member)
    return _download(body, "application/json; charset=utf-8", f"my-data-{member.card_no}.json")


@member_page
def export_xlsx(request: HttpRequest) -> HttpResponse:
    member = request.member
    body = data.export_xlsx(member_actor(member, request), member)
    return _download(body, XLSX, f"my-data-{member.card_no}.xlsx")


@member_page
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest) -> HttpResponse:
    member = request.member
    if request.method != "POST":
        return _page(request, "portal/correct.html", {"form": CorrectForm.for_member(member)})
    form = CorrectForm(request.POST)
    if form.is_valid():
        values = {**form.cleaned_data, "gender": form.cleaned_data["gender"] or "U"}
        try:
            data.correct(member_actor(member, request), member, values)
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Your details were saved."))
            return redirect("portal:privacy")
    return _page(request, "portal/correct.html", {"form": form}, status=422)


@member_page
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    member = request.member
    if request.method != "POST":
        return _page(request, "portal/consent.html", {"form": ConsentForm.for_member(member)})
    form = ConsentForm(request.POST)
    if not form.is_valid():  # booleans: only a NUL byte gets here
        return _page(request, "portal/consent.html", {"form": form}, status=422)
    data.set_consents(member_actor(member, request), member, form.cleaned_data)
    messages.success(request, _("Your choices were saved."))
    return redirect("portal:privacy")


@member_page
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    member = request.member
    actor = member_actor(member, request)
    pending = data.pending_request(member)
    if request.method == "POST" and request.POST.get("action") == "withdraw" and pending:
        data.withdraw_erasure(actor, pending)
        messages.success(request, _("Your request was withdrawn: your account stays as it is."))
        return redirect("portal:privacy")
    form = DeleteForm(request.POST if request.method == "POST" and not pending else None)
    if form.is_bound and form.is_valid():
        try:
            done = data.request_erasure(actor, member, understood=form.cleaned_data["understood"])
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            return _after_request(request, done)
    context = {
        "form": form,
        "settlement": data.settlement(actor, member),
        "pending": pending,
    }
    return _page(request, "portal/delete.html", context, status=422 if form.is_bound else 200)


def _after_request(request: HttpRequest, done) -> HttpResponse:
    if done.status == done.Status.COMPLETED:
        logout_member(request, request.merchant)
        return render(
            request,
            "portal/delete.html",
            {"merchant": request.merchant, "member": None, "deleted": True},
        )
    messages.success(
        request, _("Your request was sent: a store will refund you and then delete your data.")
    )
    return redirect("portal:delete")
