"""Console pages that create, edit, pause, resume and end promotions and coupon templates.

Each change goes through `patron.promotions.editing` (a program revision, as `patron program
apply` makes it); the form's preview is `patron.promotions.preview` (nothing written). HQ
admins and marketers edit; everyone else sees the overview only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from patron.core.errors import DomainError, NotFound
from patron.engine import pricing
from patron.promotions import editing, preview, store_activities
from patron.promotions.editor_forms import (
    BENEFIT_FIELDS,
    CouponTemplateForm,
    ExampleForm,
    PromotionForm,
    RuleForm,
)
from patron.promotions.views import EDIT_ROLES
from patron.tenancy.permissions import require_role


@dataclass(frozen=True)
class Kind:
    """A section the editor changes, and how its pages name it."""

    section: str
    form: type[RuleForm]
    anchor: str

    def title(self, new: bool) -> str:
        if self.section == "promotions":
            return _("New promotion") if new else _("Edit promotion")
        return _("New coupon template") if new else _("Edit coupon template")


KINDS = {
    "promotions": Kind("promotions", PromotionForm, "promotions"),
    "coupon_templates": Kind("coupon_templates", CouponTemplateForm, "coupon-templates"),
}


def kind_of(section: str) -> Kind:
    if section not in KINDS:
        raise Http404
    return KINDS[section]


def back_to_overview(kind: Kind) -> HttpResponse:
    return redirect(reverse("promotions:overview") + f"#{kind.anchor}")


def current_or_404(request: HttpRequest, kind: Kind, code: str) -> dict[str, Any]:
    try:
        return editing.current_row(request.actor, kind.section, code)
    except NotFound:
        raise Http404(_("Not found")) from None


def report_changes(request: HttpRequest, changes: list, done: str) -> None:
    if changes:
        count = ngettext(
            "%(count)d change recorded as a program revision.",
            "%(count)d changes recorded as a program revision.",
            len(changes),
        ) % {"count": len(changes)}
        messages.success(request, f"{done} {count}")
    else:
        messages.info(request, _("Nothing changed: the program already says this."))


# --- the editor ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_role(*EDIT_ROLES)
def edit(request: HttpRequest, section: str, code: str | None = None) -> HttpResponse:
    kind = kind_of(section)
    actor = request.actor
    row = current_or_404(request, kind, code) if code is not None else None
    check_store_scope(actor, kind, row)
    initial = kind.form.initial_from_row(row) if row is not None else {}
    if request.method == "POST":
        form = kind.form(request.POST, actor=actor, editing=code, initial=initial)
        if form.is_valid():
            try:
                changes = save(actor, kind, code, form.to_row())
            except editing.RowRefused as refused:
                form.add_row_errors(refused.row_errors, refused.other_errors)
            except store_activities.NotYourStore:
                raise PermissionDenied from None
            except DomainError as refused:  # beyond HQ's limits for stores
                form.add_error(None, refused.detail)
            else:
                name = form.cleaned_data["name"]
                report_changes(request, changes, _("Saved “%s”.") % name)
                return back_to_overview(kind)
        example = ExampleForm(request.POST, actor=actor)
    else:
        form = kind.form(actor=actor, editing=code, initial=initial)
        lines = preview.example_lines(actor.merchant)
        example = ExampleForm(actor=actor, initial=ExampleForm.initial_for(lines, timezone.now()))
    context = {
        "kind": kind,
        "form": form,
        "example": example,
        "code": code,
        "paused": bool(row and row.get("paused")),
        "title": kind.title(new=code is None),
        "benefit_fields": BENEFIT_FIELDS,
        "preview_url": reverse("promotions:preview", args=[kind.section])
        + (f"?editing={code}" if code else ""),
    }
    return render(request, "promotions/editor.html", context)


def check_store_scope(actor, kind: Kind, row: dict[str, Any] | None) -> None:
    """A store manager opens only their store's own rows, and a new one only when HQ lets
    stores run it (403 otherwise; HQ roles pass)."""
    try:
        scope = store_activities.store_scope(actor)
        if scope is None:
            return
        if row is not None:
            store_activities.check_owner(scope, row.get("owner"))
        else:
            store_activities.check_allowed(actor.merchant, kind.section)
    except DomainError:
        raise PermissionDenied from None


def save(actor, kind: Kind, code: str | None, row: dict[str, Any]) -> list:
    if code is None:
        return editing.create_row(actor, kind.section, row)
    return editing.update_row(actor, kind.section, code, row)


# --- pause, resume, end ----------------------------------------------------------------------


@require_POST
@require_role(*EDIT_ROLES)
def pause(request: HttpRequest, section: str, code: str) -> HttpResponse:
    return _set_paused(request, section, code, True)


@require_POST
@require_role(*EDIT_ROLES)
def resume(request: HttpRequest, section: str, code: str) -> HttpResponse:
    return _set_paused(request, section, code, False)


def _set_paused(request: HttpRequest, section: str, code: str, paused: bool) -> HttpResponse:
    kind = kind_of(section)
    row = current_or_404(request, kind, code)
    try:
        changes = editing.set_paused(request.actor, kind.section, code, paused)
    except store_activities.NotYourStore:
        raise PermissionDenied from None
    except editing.RowRefused as refused:
        messages.error(request, str(refused))
    else:
        done = _("Paused “%s”.") if paused else _("Resumed “%s”.")
        report_changes(request, changes, done % row["name"])
    return back_to_overview(kind)


@require_POST
@require_role(*EDIT_ROLES)
def end(request: HttpRequest, section: str, code: str) -> HttpResponse:
    kind = kind_of(section)
    row = current_or_404(request, kind, code)
    try:
        changes = editing.end_row(request.actor, kind.section, code)
    except store_activities.NotYourStore:
        raise PermissionDenied from None
    except editing.RowRefused as refused:
        messages.error(request, str(refused))
    else:
        report_changes(request, changes, _("Ended “%s”; its history is kept.") % row["name"])
    return back_to_overview(kind)


# --- the preview -----------------------------------------------------------------------------


@require_POST
@require_role(*EDIT_ROLES)
def preview_draft(request: HttpRequest, section: str) -> HttpResponse:
    """The draft on the form priced on the example basket (htmx; nothing written)."""
    kind = kind_of(section)
    actor = request.actor
    check_store_scope(actor, kind, None)  # a store manager previews only when HQ allows
    code = request.GET.get("editing") or None
    data = request.POST.copy()
    # A draft without a code or name yet can still be previewed.
    if code is None and not data.get("code", "").strip():
        data["code"] = "DRAFT"
    if not data.get("name", "").strip():
        data["name"] = _("This promotion")
    form = kind.form(data, actor=actor, editing=code, initial={"code": code})
    example_form = ExampleForm(data, actor=actor)
    result = preview.Preview()
    if not form.is_valid() or not example_form.is_valid():
        result.errors = form_messages(form) + form_messages(example_form)
    else:
        example = build_example(actor, example_form)
        if example is None:
            result.errors = [_("Add a line with a SKU and a price to the example basket.")]
        else:
            try:  # a store manager's draft beyond HQ's limits is refused here as on saving
                row = editing.within_store_limits(actor, kind.section, form.to_row())
            except editing.RowRefused as refused:
                result.errors = [labelled(form, e.path, e.message) for e in refused.row_errors]
                result.errors += refused.other_errors
            except DomainError as refused:
                result.errors = [str(refused.detail)]
            else:
                result = preview.preview(actor, kind.section, row, example, editing=code)
                result.errors += [labelled(form, p, message) for p, message in result.refusals]
    return render(request, "promotions/_preview.html", {"result": result, "kind": kind})


def labelled(form: RuleForm, path: str, message: str) -> str:
    """A schema refusal of the draft, named by the form field it is about."""
    name = form.field_for_path(path)
    message = form.worded(path, message)
    if name not in form.fields:
        return message
    return _("%(field)s: %(message)s") % {"field": form.fields[name].label, "message": message}


def form_messages(form) -> list[str]:
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            found.append(
                _("%(field)s: %(message)s") % {"field": label, "message": error}
                if label
                else str(error)
            )
    return found


def build_example(actor, form: ExampleForm) -> preview.Example | None:
    lines = tuple(
        pricing.Line(sku=sku, category=category, quantity=quantity, unit_price=price)
        for sku, category, quantity, price in form.lines()
    )
    if not lines:
        return None
    data = form.cleaned_data
    store = data.get("store") or (form.fields["store"].choices or [("", "")])[0][0]
    at = data.get("at") or timezone.now()
    return preview.Example(
        lines=lines,
        store=store,
        at=at.astimezone(dt.UTC),
        tier=data.get("member") or None,
        first_purchase=bool(data.get("first_purchase")),
    )
