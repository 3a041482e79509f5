from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from patron.core.apitypes import PathId
from patron.core.problems import Problem
from patron.members import selectors, services
from patron.members.schemas import MemberIn, MemberOut, MemberPage, MemberPatch
from patron.tenancy.selectors import acting_for

router = Router(tags=["members"])
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
    page: int = NinjaField(1, ge=1, le=100000)
    page_size: int = NinjaField(50, ge=1, le=200)


@router.post("", response={201: MemberOut, **ERRORS}, summary="Register a member")
def create_member(request: HttpRequest, payload: MemberIn):
    data = service_input(payload)
    actor = acting_for(request.actor, data.pop("staff", None), data.get("store"))
    member = services.register_member(actor, data)
    return Status(201, selectors.present_member(request.actor, member))


@router.get("", response={200: MemberPage, **ERRORS}, summary="Find members")
def list_members(request: HttpRequest, filters: Query[MemberFilters]):
    members = selectors.search_members(
        request.actor,
        filters.q,
        mobile=filters.mobile,
        card_no=filters.card_no,
        store=filters.store,
    ).prefetch_related("tags")
    start = (filters.page - 1) * filters.page_size
    page = list(members[start : start + filters.page_size])
    return {
        "items": [selectors.present_member(request.actor, m, listing=True) for m in page],
        "count": members.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get("/{member_id}", response={200: MemberOut, **ERRORS}, summary="One member")
def get_member(request: HttpRequest, member_id: PathId):
    member = selectors.member_for(request.actor, member_id)
    return selectors.present_member(request.actor, member)


@router.patch("/{member_id}", response={200: MemberOut, **ERRORS}, summary="Change a member")
def patch_member(request: HttpRequest, member_id: PathId, payload: MemberPatch):
    member = selectors.member_for(request.actor, member_id)
    member = services.update_member(request.actor, member, service_input(payload))
    return selectors.present_member(request.actor, member)
