"""Console pages for members: list with live search, detail, register and edit.

Every read goes through `patron.members.selectors` (scoped to the actor's merchant, and store
for store-bound roles; mobile masked by role); every write through `patron.members.services`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from patron.core.errors import DomainError, ValidationFailed
from patron.core.keyset import KeysetPage
from patron.members import profile, selectors, services
from patron.members.forms import MemberFilterForm, MemberForm
from patron.members.models import ConsentRecord, CustomField, Member, Tag
from patron.tenancy.actor import Actor
from patron.tenancy.audit_display import ShownEntry, present_entries
from patron.tenancy.permissions import console_view, may_read_audit
from patron.tenancy.selectors import acting_for, audit_entries, scoped

PAGE_SIZE = 50
HISTORY_SIZE = 50


# --- reads -----------------------------------------------------------------------------------


def tag_names(actor: Actor) -> list[str]:
    return list(scoped(Tag.objects.all(), actor, store_field=None).values_list("name", flat=True))


def member_history(actor: Actor, member: Member) -> list[ShownEntry] | None:
    """The member's audit trail, for roles that may read the audit log (None for others)."""
    if not may_read_audit(actor.role):
        return None
    entries = audit_entries(actor).filter(object_type="member", object_id=str(member.pk))
    return present_entries(entries[:HISTORY_SIZE], actor.merchant)


def custom_rows(member: Member, definitions: list[CustomField]) -> list[tuple[str, Any]]:
    """(label, value) for each defined custom field, then values of fields since removed."""
    values = dict(member.custom or {})
    rows = [(d.label, values.pop(d.key, None)) for d in definitions]
    rows += sorted(values.items())
    return rows


def consent_history(member: Member) -> list[ConsentRecord]:
    return list(member.consents.select_related("recorded_by")[:HISTORY_SIZE])


# --- list ------------------------------------------------------------------------------------


def wants_results_only(request: HttpRequest) -> bool:
    """htmx live search asks for the table only; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


@dataclass(frozen=True)
class SortHeader:
    """A sortable column's header: its label, how it is sorted now, and the link's sort."""

    column: profile.Column
    state: str  # "asc", "desc" or ""
    next_sort: str


def sort_headers(current: str) -> list[SortHeader]:
    """A click sorts by the column going up (down for numbers: the biggest first), and a second
    click on the same column turns it round."""
    headers = []
    for column in profile.columns():
        if current == column.name:
            state, next_sort = "asc", f"-{column.name}"
        elif current == f"-{column.name}":
            state, next_sort = "desc", column.name
        else:
            state = ""
            next_sort = f"-{column.name}" if column.numeric else column.name
        headers.append(SortHeader(column, state, next_sort))
    return headers


def page_rows(found: QuerySet[Member], ids: list[int]) -> list[Member]:
    """The page's members, in the order of `ids`, with every column loaded.

    The list orders the member ids alone (with only the sorting column's join), then loads
    these few rows whole: ordering whole rows made the database compute every column's joins
    and subqueries for all members before sorting (seconds on 100,000 members)."""
    members = profile.with_columns(found.filter(pk__in=ids).order_by()).prefetch_related("tags")
    by_id = {member.pk: member for member in members}
    return [by_id[pk] for pk in ids if pk in by_id]


def with_cells(member: Member) -> Member:
    """The member with the cells of the columns other apps add (`member.list_cells`)."""
    member.list_cells = profile.cells(member)
    return member


def list_ordering(found: QuerySet[Member], q: str, sort: str) -> tuple[QuerySet, list[str]]:
    """The members with what their order needs, and that order: a sorted column (empty values
    first going up: `profile.sort_key`), else the search's ranking, else the newest first."""
    column = profile.column_named(sort)
    if column is None:
        return found, list(selectors.member_ordering(q))
    keyed = profile.with_sort_value(found, column)
    descending = sort.startswith("-")
    return keyed, ["-sort_value", "-id"] if descending else ["sort_value", "id"]


def ordered_page(
    found: QuerySet[Member],
    ordering: list[str],
    cursor: str | None,
    tiers: list[QuerySet[Member]] | None = None,
) -> KeysetPage:
    """One page of member ids (and the ordering values its cursors need), from `cursor`; a
    search in its ranking is read rank by rank (`selectors.ranked_tiers`)."""
    return selectors.member_page(found, ordering, PAGE_SIZE, cursor, tiers=tiers, whole=False)


@console_view
def member_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    filters = MemberFilterForm(request.GET or None, actor=actor, tags=tag_names(actor))
    criteria = filters.criteria()
    found = selectors.search_members(actor, **criteria)
    sort = filters.sort() if profile.column_named(filters.sort()) else ""
    q = criteria.get("q", "").strip()
    keyed, ordering = list_ordering(found, q, sort)
    tiers = None
    if q and not sort:
        unsearched = selectors.search_members(actor, **{**criteria, "q": ""})
        tiers = selectors.ranked_tiers(actor, unsearched, q)
    cursor_error = ""
    try:
        page = ordered_page(keyed, ordering, request.GET.get("cursor") or None, tiers)
    except ValidationFailed as problem:  # a stale or edited link: start again at the top
        cursor_error = str(problem)
        page = ordered_page(keyed, ordering, None, tiers)
    members = page_rows(found, [row["id"] for row in page.items])
    context = {
        "filters": filters,
        "page": page,
        "count": selectors.member_count(found),
        "cursor_error": cursor_error,
        "rows": [(with_cells(member), selectors.shown_mobile(actor, member)) for member in members],
        "sort_headers": sort_headers(
            filters.sort() if profile.column_named(filters.sort()) else ""
        ),
        "hx_target": "#member-results",
    }
    template = "members/_results.html" if wants_results_only(request) else "members/list.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- detail ----------------------------------------------------------------------------------


@console_view
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = selectors.member_or_404(actor, pk)
    if actor.sees_personal_data:
        services.record_personal_data_view(actor, member)
    context = {
        "member": member,
        "mobile": selectors.shown_mobile(actor, member),
        "id_number": selectors.shown_id_number(actor, member),
        "tags": sorted(tag.name for tag in member.tags.all()),
        "custom_rows": custom_rows(member, services.custom_field_definitions(actor.merchant)),
        "consents": consent_history(member),
        "history": member_history(actor, member),
        "panels": profile.panels(request, member),
    }
    return render(request, "members/detail.html", context)


# --- register and edit -----------------------------------------------------------------------


@console_view
def member_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = MemberForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            recruiter = acting_for(
                actor, form.cleaned_data.get("staff"), form.cleaned_data["store"]
            )
            member = services.register_member(recruiter, form.service_data())
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(
                request,
                _("Member %(name)s registered, card number %(card)s.")
                % {"name": member.name or member.card_no, "card": member.card_no},
            )
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": None})


@console_view
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = selectors.member_or_404(actor, pk)
    form = MemberForm(request.POST or None, actor=actor, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(actor, member, form.service_data())
        except DomainError as problem:
            form.add_service_errors(problem)
            # The service may have touched the instance before refusing: show the stored one.
            member = selectors.member_or_404(actor, pk)
        else:
            messages.success(request, _("Member %(name)s saved.") % {"name": member})
            return redirect("members:detail", pk=member.pk)
    elif request.method == "GET" and actor.sees_personal_data:
        # The form shows the unmasked mobile and ID number: that is a view of personal data.
        services.record_personal_data_view(actor, member)
    context = {
        "form": form,
        "member": member,
        "mobile": selectors.shown_mobile(actor, member),
        "id_number": selectors.shown_id_number(actor, member),
    }
    return render(request, "members/form.html", context)
