"""REST endpoints of the segment part of insight (API.md §8): preview a filter, save it as a
segment, preview, list and delete saved segments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Router, Schema, Status

from patron.core.apitypes import PathId
from patron.core.problems import Problem
from patron.insight import segments

router = Router(tags=["insight"])
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}
FILTER_DOC = 'A filter of API.md §8: {"all": [{"field", "op", "value"}, ...]} or {"any": [...]}'


class FilterIn(Schema):
    filter: Any = NinjaField(..., description=FILTER_DOC)


class SegmentIn(Schema):
    name: str = NinjaField(..., max_length=200, description="Unique per merchant, 1-60 characters")
    filter: Any = NinjaField(..., description=FILTER_DOC)


class SampleMember(Schema):
    id: int
    card_no: str
    name: str
    mobile: str = NinjaField(..., description="Always masked (138****8000)")
    tier: str | None
    lifecycle: str | None


class PreviewOut(Schema):
    count: int
    sample: list[SampleMember]


class SegmentCreated(Schema):
    id: int
    name: str
    count: int


class SegmentOut(Schema):
    id: int
    name: str
    filter: Any
    count: int | None = NinjaField(..., description="The last count over every store, if any")
    counted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


def present_preview(preview: segments.Preview) -> dict[str, Any]:
    return {"count": preview.count, "sample": preview.sample}


def present_segment(segment) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "name": segment.name,
        "filter": segment.filter,
        "count": segment.last_count,
        "counted_at": segment.counted_at,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


@router.post(
    "/segments/preview", response={200: PreviewOut, **ERRORS}, summary="Count and sample a filter"
)
def preview_filter(request: HttpRequest, payload: FilterIn):
    return present_preview(segments.preview(request.actor, payload.filter))


@router.post("/segments", response={201: SegmentCreated, **ERRORS}, summary="Save a segment")
def create_segment(request: HttpRequest, payload: SegmentIn):
    segment, count = segments.create_segment(request.actor, payload.name, payload.filter)
    return Status(201, {"id": segment.pk, "name": segment.name, "count": count})


@router.get("/segments", response={200: list[SegmentOut], **ERRORS}, summary="Saved segments")
def list_segments(request: HttpRequest):
    return [present_segment(s) for s in segments.segments_for(request.actor)]


@router.get(
    "/segments/{segment_id}/preview",
    response={200: PreviewOut, **ERRORS},
    summary="Count and sample a saved segment",
)
def preview_segment(request: HttpRequest, segment_id: PathId):
    segment = segments.segment_for(request.actor, segment_id)
    preview = segments.preview(request.actor, segment.filter)
    return present_preview(preview)


@router.delete("/segments/{segment_id}", response={204: None, **ERRORS}, summary="Delete a segment")
def delete_segment(request: HttpRequest, segment_id: PathId):
    segment = segments.segment_for(request.actor, segment_id)
    segments.delete_segment(request.actor, segment)
    return Status(204, None)
