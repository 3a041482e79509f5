"""The card product editor (HQ): list, add, edit, end; each change a program revision
(`patron.cards.product_editing`). Face images are uploaded here and served back by name only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.cards import faces, product_editing
from patron.cards.models import CardProduct
from patron.cards.product_forms import CardProductForm
from patron.core.errors import NotFound
from patron.promotions.editing import RowRefused
from patron.promotions.editor_views import report_changes
from patron.promotions.models import Tier
from patron.tenancy.models import Role
from patron.tenancy.permissions import console_view, require_role

EDIT_ROLES = (Role.HQ_ADMIN,)


def face_url(name: str) -> str:
    """Where the console shows a stored face image ("" for none or a name it did not store)."""
    found = faces.NAME.fullmatch(name or "")
    return reverse("card_products:face", args=[found["file"]]) if found else ""


@require_GET
@require_role(*EDIT_ROLES)
def product_list(request: HttpRequest) -> HttpResponse:
    merchant = request.actor.merchant
    names = dict(Tier.objects.filter(merchant=merchant).values_list("code", "name"))
    products = CardProduct.objects.filter(merchant=merchant, is_active=True)
    rows = [(p, names.get(p.tier_code, ""), face_url(p.face_image)) for p in products]
    return render(request, "cards/products/list.html", {"rows": rows})


def _row_or_404(request: HttpRequest, code: str) -> dict[str, Any]:
    try:
        return product_editing.product_row(request.actor, code)
    except NotFound:
        raise Http404(_("Not found")) from None


@require_http_methods(["GET", "POST"])
@require_role(*EDIT_ROLES)
def edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    actor = request.actor
    row = _row_or_404(request, code) if code is not None else None
    initial = CardProductForm.initial_from_row(row) if row else CardProductForm.blank_initial()
    if request.method == "POST":
        form = CardProductForm(
            request.POST, request.FILES, merchant=actor.merchant, editing=code, initial=initial
        )
        if form.is_valid():
            face = _face_to_save(form, initial.get("face_image", ""))
            try:
                changes = _save(actor, code, form.to_row(face))
            except RowRefused as refused:
                form.add_row_errors(refused.row_errors, refused.other_errors)
                if form.new_face:
                    _discard(face)
            else:
                report_changes(request, changes, _("Saved “%s”.") % form.cleaned_data["name"])
                return redirect("card_products:list")
    else:
        form = CardProductForm(merchant=actor.merchant, editing=code, initial=initial)
    context = {
        "form": form,
        "code": code,
        "title": _("Edit card product") if code else _("New card product"),
        "face_image_url": face_url(initial.get("face_image", "")),
        "merchant_name": actor.merchant.name,
    }
    return render(request, "cards/products/edit.html", context)


def _face_to_save(form: CardProductForm, current: str) -> str:
    if form.new_face is not None:
        return faces.store(*form.new_face)
    if form.cleaned_data.get("remove_face_image"):
        return ""
    return current


def _discard(name: str) -> None:
    found = faces.path_of(name)
    if found is not None:
        found[0].unlink(missing_ok=True)


def _save(actor, code: str | None, row: dict[str, Any]) -> list:
    if code is None:
        return product_editing.create_product(actor, row)
    return product_editing.update_product(actor, code, row)


@require_POST
@require_role(*EDIT_ROLES)
def end(request: HttpRequest, code: str) -> HttpResponse:
    row = _row_or_404(request, code)
    try:
        changes = product_editing.end_product(request.actor, code)
    except RowRefused as refused:
        messages.error(request, str(refused))
    else:
        report_changes(request, changes, _("Ended “%s”; its cards keep working.") % row["name"])
    return redirect("card_products:list")


@require_GET
@console_view
def face(request: HttpRequest, name: str) -> HttpResponse:
    """A stored face image, by its random name; only this merchant's products' images."""
    stored = f"{faces.FOLDER}/{name}"
    if not CardProduct.objects.filter(merchant=request.actor.merchant, face_image=stored).exists():
        raise Http404
    found = faces.path_of(stored)
    if found is None:
        raise Http404
    path, content_type = found
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, max-age=86400"
    return response
