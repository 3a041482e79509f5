"""Console pages of segments (F-29): the saved segments with their counts, the filter builder
with a live count and a masked sample, save / edit / delete, and the audited xlsx export."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from patron.core.downloads import XLSX_TYPE
from patron.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from patron.insight import segments
from patron.insight.filters import CUSTOM_PREFIX, FIELDS, OPS, Compiler
from patron.insight.models import Lifecycle, Segment
from patron.members import exporting
from patron.members.models import Channel, Gender, Tag
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role

SEGMENT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
may_use = require_role(*SEGMENT_ROLES)
MONEY_FIELDS = ("spend_12m", "avg_ticket", "stored_value")
OP_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "in": gettext_lazy("is any of"),
    "not_in": gettext_lazy("is none of"),
    "gte": gettext_lazy("at least"),
    "lte": gettext_lazy("at most"),
    "between": gettext_lazy("between"),
    "contains": gettext_lazy("contains"),
}


def segment_or_404(actor: Actor, segment_id: int) -> Segment:
    try:
        return segments.segment_for(actor, segment_id)
    except NotFound:
        raise Http404(_("Segment not found")) from None


def field_choices(compiler: Compiler, name: str) -> list[list[str]] | None:
    """The values a field's select offers: [value, label] pairs (None: typed in)."""
    merchant = compiler.merchant
    fixed = {"gender": Gender, "channel": Channel, "lifecycle": Lifecycle}
    if name in fixed:
        return [[str(v), str(label)] for v, label in fixed[name].choices]
    if name == "tier":
        tiers = sorted(compiler.tiers.values(), key=lambda t: (not t.is_active, t.rank))
        return [[t.code, t.name] for t in tiers if t.is_active]
    if name == "store":
        stores = Store.objects.filter(merchant=merchant).order_by("-is_active", "code")
        return [[s.code, f"{s.name} ({s.code})"] for s in stores]
    if name == "tags":
        return [
            [t, t] for t in Tag.objects.filter(merchant=merchant).values_list("name", flat=True)
        ]
    if name.startswith(CUSTOM_PREFIX):
        definition = compiler.custom_fields[name.removeprefix(CUSTOM_PREFIX)]
        return [[str(c), str(c)] for c in definition.choices] if definition.choices else None
    return None


def catalogue(actor: Actor) -> dict[str, Any]:
    """What the builder's script needs: every field with its type, operators and choices."""
    compiler = Compiler(actor.merchant)
    specs = list(FIELDS.values())
    for key in compiler.custom_fields:
        spec = compiler.spec(f"{CUSTOM_PREFIX}{key}", "")
        if spec is not None:
            specs.append(spec)
    fields = [
        {
            "name": spec.name,
            "label": str(spec.label),
            "group": str(spec.group),
            "kind": "yuan" if spec.name in MONEY_FIELDS else spec.kind.name,
            "ops": list(spec.ops),
            "choices": field_choices(compiler, spec.name),
        }
        for spec in specs
    ]
    return {
        "fields": fields,
        "ops": {op: str(OP_LABELS[op]) for op in OPS},
        "words": {
            "all": _("all of"),
            "any": _("any of"),
            "add_condition": _("+ Condition"),
            "add_group": _("+ Group"),
            "remove": _("Remove"),
            "yes": _("Yes"),
            "no": _("No"),
            "and": _("and"),
            "list_hint": _("comma-separated"),
            "match": _("Members matching"),
        },
    }


@may_use
def segment_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    context = {
        "segments": segments.segments_for(actor),
        "may_export": exporting.may_export(actor),
    }
    return render(request, "insight/segments/list.html", context)


@may_use
def segment_count(request: HttpRequest, segment_id: int) -> HttpResponse:
    """One segment's count for the actor, loaded into the list row by row."""
    segment = segment_or_404(request.actor, segment_id)
    count = segments.count_segment(request.actor, segment)
    return render(request, "insight/segments/_count.html", {"count": count})


def parse_filter(text: str) -> Any:
    try:
        return json.loads(text or '{"all": []}')
    except ValueError:
        raise ValidationFailed([FieldError("filter", _("The filter is not valid JSON."))]) from None


def where(path: str) -> str:
    """An error's path as people count: filter.all[2].any[1].value -> "Condition 3.2"."""
    if path == "name":
        return _("Segment name")
    positions = [str(int(n) + 1) for n in re.findall(r"\[(\d+)\]", path)]
    if not positions:
        return _("Conditions")
    return _("Condition %(n)s") % {"n": ".".join(positions)}


def shown_errors(problem: DomainError) -> list[str]:
    return [f"{where(e.field)}: {e.message}" for e in problem.errors] or [str(problem)]


@may_use
@require_POST
def segment_preview(request: HttpRequest) -> HttpResponse:
    """The builder's live count and masked sample (htmx, on every change)."""
    actor: Actor = request.actor
    context: dict[str, Any] = {}
    try:
        preview = segments.preview(actor, parse_filter(request.POST.get("filter", "")))
    except ValidationFailed as failed:
        context["errors"] = shown_errors(failed)
    else:
        tiers = {t.code: t.name for t in Compiler(actor.merchant).tiers.values()}
        lifecycles = dict(Lifecycle.choices)
        context["count"] = preview.count
        context["sample"] = [
            {
                **row,
                "tier_name": tiers.get(row["tier"], "—"),
                "lifecycle_name": lifecycles.get(row["lifecycle"], "—"),
            }
            for row in preview.sample
        ]
    return render(request, "insight/segments/_preview.html", context)


def starting_filter(request: HttpRequest) -> Any:
    """A new segment may start from a filter other pages link with (`?filter=` JSON: an RFM
    cell, a lifecycle stage); one that is not a filter object starts empty."""
    try:
        node = json.loads(request.GET.get("filter") or "null")
    except ValueError:
        node = None
    return node if isinstance(node, dict) and ("all" in node or "any" in node) else {"all": []}


def builder(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    actor: Actor = request.actor
    name = segment.name if segment else ""
    node: Any = segment.filter if segment else starting_filter(request)
    errors: list[str] = []
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            node = parse_filter(request.POST.get("filter", ""))
            if segment is None:
                segment, count = segments.create_segment(actor, name, node)
            else:
                segment, count = segments.update_segment(actor, segment, name, node)
        except DomainError as problem:
            errors = shown_errors(problem)
        else:
            messages.success(
                request,
                _("Segment %(name)s saved: %(count)s members.")
                % {"name": segment.name, "count": count},
            )
            return redirect("segments:list")
    context = {
        "segment": segment,
        "name": name,
        "filter_json": json.dumps(node, ensure_ascii=False),
        "catalogue": catalogue(actor),
        "errors": errors,
    }
    return render(request, "insight/segments/builder.html", context)


@may_use
def segment_new(request: HttpRequest) -> HttpResponse:
    return builder(request, None)


@may_use
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    return builder(request, segment_or_404(request.actor, segment_id))


@may_use
@require_POST
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_or_404(request.actor, segment_id)
    segments.delete_segment(request.actor, segment)
    messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
    return redirect("segments:list")


@may_use
@require_POST
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse:
    """The segment's members for this actor as .xlsx, masked, audited before it is written."""
    actor: Actor = request.actor
    segment = segment_or_404(actor, segment_id)
    members, name = segments.resolve_for_export(actor, segment.name)
    buffer = io.BytesIO()
    try:
        exporting.export_members(actor, buffer, fmt="xlsx", members=members, segment=name)
    except DomainError as problem:
        messages.error(request, str(problem))
        return redirect("segments:list")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename=segment-{segment.pk}.xlsx"
    return response
