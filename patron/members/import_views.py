"""Console pages for bulk import (F-03, F-49): upload -> preview (a dry run) -> confirm -> result.

Only HQ admins and store managers import; a store manager imports into their own store only
and sees only the imports they started. The pages are thin: every check and every write is
in the `patron.members.importing` package, every read in `patron.members.selectors`.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from patron.core.downloads import XLSX_TYPE
from patron.core.errors import DomainError, NotFound
from patron.members.importing.extensions import extension_columns
from patron.members.importing.reading import MAX_UPLOAD_BYTES, too_large_message
from patron.members.importing.report import write_report_csv
from patron.members.importing.template import build_template
from patron.members.importing.uploads import confirm_import, preview_upload
from patron.members.models import ImportBatch, ImportStatus
from patron.members.selectors import (
    import_batch_for,
    import_confirmation,
    import_store_choices,
    recent_imports,
)
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role

may_import = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
ERRORS_PER_PAGE = 200
RECENT_IMPORTS = 10


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Members file"),
        help_text=gettext_lazy("Excel (.xlsx) or CSV, first row with the column names."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Default store"),
        help_text=gettext_lazy("Members whose row names no store join this one."),
        queryset=Store.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("No store (HQ)"),
    )

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bound = actor.store_bound
        store = self.fields["store"]
        store.queryset = import_store_choices(actor)
        if bound is not None:
            # A store manager imports into their own store: show it, never offer another.
            store.initial = bound
            store.disabled = True
            store.empty_label = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(too_large_message())
        return upload


def batch_or_404(actor: Actor, batch_id: int) -> ImportBatch:
    try:
        return import_batch_for(actor, batch_id)
    except NotFound:
        raise Http404 from None


@may_import
def upload(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = UploadForm(request.POST or None, request.FILES or None, actor=actor)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        try:
            result = preview_upload(actor, form.cleaned_data["file"], form.cleaned_data["store"])
        except DomainError as problem:
            form.add_error("file", str(problem.detail))
            problems = [error.as_dict() for error in problem.errors]
        else:
            return redirect("imports:batch", batch_id=result.batch.pk)
    recent = recent_imports(actor, RECENT_IMPORTS)
    context = {"form": form, "problems": problems, "recent": recent}
    return render(request, "members/import_upload.html", context)


@may_import
@require_GET
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A dry run shows the preview and the confirm button; a real import shows its result."""
    found = batch_or_404(request.actor, batch_id)
    errors = Paginator(found.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"batch": found, "errors": errors}
    if not found.dry_run:
        return render(request, "members/import_result.html", context)
    context["extra_labels"], context["preview_rows"] = preview_extra(found.preview)
    context["confirmed"] = import_confirmation(found)
    context["can_confirm"] = (
        context["confirmed"] is None and bool(found.stored_file) and found.imported > 0
    )
    return render(request, "members/import_preview.html", context)


def preview_extra(preview: list[dict]) -> tuple[list[str], list[dict]]:
    """The preview's columns registered from above (cards: card number, tier, balances) that
    any row fills: their names, and each row with its cells in that order."""
    labels = {column.field: column.label or column.zh for _e, column in extension_columns()}
    filled = {name for row in preview for name in row.get("extra", {})}
    names = [name for name in labels if name in filled]
    rows = [
        {**row, "extra_cells": [row.get("extra", {}).get(name, "") for name in names]}
        for row in preview
    ]
    return [str(labels[name]) for name in names], rows


@may_import
@require_POST
def confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    preview = batch_or_404(request.actor, batch_id)
    try:
        done = confirm_import(request.actor, preview)
    except DomainError as problem:
        messages.error(request, str(problem.detail))
        return redirect("imports:batch", batch_id=preview.pk)
    if done.status == ImportStatus.DONE:
        messages.success(
            request,
            _("%(count)d members imported from %(file)s.")
            % {"count": done.imported, "file": done.file_name},
        )
    elif done.in_progress:
        messages.info(request, _("The import has started: this page shows how far it has got."))
    return redirect("imports:batch", batch_id=done.pk)


@may_import
@require_GET
def progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The progress line an import's page polls; once the import is over the page reloads
    to show its result and errors."""
    found = batch_or_404(request.actor, batch_id)
    response = render(request, "members/_import_progress.html", {"batch": found})
    if not found.in_progress and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@may_import
@require_GET
def error_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    found = batch_or_404(request.actor, batch_id)
    text = io.StringIO()
    write_report_csv(found.errors, text)
    # A BOM so that Excel, which most merchants open it with, shows the Chinese correctly.
    response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{found.pk}-errors.csv"'
    return response


@may_import
@require_GET
def template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(build_template(request.actor.merchant), content_type=XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="members-template.xlsx"'
    return response
