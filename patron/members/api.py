from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from patron.core.apitypes import PathId
from patron.core.errors import FieldError, ValidationFailed
from patron.core.keyset import Key, KeysetPage, assembled, row_values
from patron.core.problems import Problem
from patron.members import selectors, services
from patron.members.schemas import MemberIn, MemberOut, MemberPage, MemberPatch
from patron.tenancy.selectors import acting_for

router = Router(tags=["members"])
# `page` reads and skips every member before the page: past this many it is refused (use
# `cursor`, which seeks; docs/scale.md).
MAX_OFFSET = 10_000
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}


def service_input(payload: MemberPatch) -> dict[str, Any]:
    """Flatten the API body into the service's field names (consent -> consent_*)."""
    data = payload.model_dump(exclude_unset=True)
    consent = data.pop("consent", None) or {}
    for topic, granted in consent.items():
        if granted is not None:
            data[f"consent_{topic}"] = granted
    return data


class MemberFilters(Schema):
    q: str = NinjaField("", max_length=50, description="Mobile, card number or name")
    mobile: str = NinjaField("", max_length=20)
    card_no: str = NinjaField("", max_length=20)
    store: str = NinjaField("", max_length=32)
    cursor: str = NinjaField(
        "", max_length=500, description="next_cursor or previous_cursor of an earlier page"
    )
    page: int = NinjaField(
        1, ge=1, le=100000, description=f"Deprecated: use cursor (offsets up to {MAX_OFFSET:,})"
    )
    page_size: int = NinjaField(50, ge=1, le=200)


@router.post("", response={201: MemberOut, **ERRORS}, summary="Register a member")
def create_member(request: HttpRequest, payload: MemberIn):
    data = service_input(payload)
    actor = acting_for(request.actor, data.pop("staff", None), data.get("store"))
    member = services.register_member(actor, data)
    return Status(201, selectors.present_member(request.actor, member))


@router.get("", response={200: MemberPage, **ERRORS}, summary="Find members")
def list_members(request: HttpRequest, filters: Query[MemberFilters]):
    q = filters.q.strip()
    unsearched = selectors.search_members(
        request.actor, "", mobile=filters.mobile, card_no=filters.card_no, store=filters.store
    )
    members = selectors.matching(request.actor, unsearched, q) if q else unsearched
    members = members.prefetch_related("tags")
    ordering = selectors.member_ordering(q)
    if filters.cursor or filters.page == 1:
        tiers = selectors.ranked_tiers(request.actor, unsearched, q) if q else None
        page = selectors.member_page(
            members, ordering, filters.page_size, filters.cursor or None, tiers=tiers
        )
    else:
        page = offset_page(members, ordering, filters.page_size, filters.page)
    count = selectors.member_count(members)
    return {
        "items": [selectors.present_member(request.actor, m, listing=True) for m in page.items],
        "count": count.value,
        "count_exact": count.exact,
        "page": 1 if filters.cursor else filters.page,
        "page_size": filters.page_size,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def offset_page(members: QuerySet, ordering: Sequence[str], size: int, number: int) -> KeysetPage:
    """Page `number` the old way (an OFFSET), for integrators that still send `page`, with the
    cursors that continue from it; refused past MAX_OFFSET members."""
    start = (number - 1) * size
    if start > MAX_OFFSET:
        message = _("Pages this far need the cursor: pass next_cursor as cursor.")
        raise ValidationFailed([FieldError("page", message)], message)
    keys = [Key.parse(term) for term in ordering]
    fetched = list(members.order_by(*ordering)[start : start + size + 1])
    # Reached past earlier pages, as a cursor would be: a page before it always exists.
    return assembled(fetched, lambda row: row_values(row, keys), size, True, cursor=number)


@router.get("/{member_id}", response={200: MemberOut, **ERRORS}, summary="One member")
def get_member(request: HttpRequest, member_id: PathId):
    member = selectors.member_for(request.actor, member_id)
    return selectors.present_member(request.actor, member)


@router.patch("/{member_id}", response={200: MemberOut, **ERRORS}, summary="Change a member")
def patch_member(request: HttpRequest, member_id: PathId, payload: MemberPatch):
    member = selectors.member_for(request.actor, member_id)
    member = services.update_member(request.actor, member, service_input(payload))
    return selectors.present_member(request.actor, member)
