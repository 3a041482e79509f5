"""REST endpoints of the segment part of insight (API.md §8): preview a filter, save it as a
segment, preview, list and delete saved segments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Router, Schema, Status

from patron.core.apitypes import NOT_BLANK, PathId, documented
from patron.core.problems import Problem
from patron.insight import segments

router = Router(tags=["insight"])
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}
FILTER_DOC = (
    'A filter of API.md §8: {"all": [ITEM, ...]} or {"any": [ITEM, ...]}, where an ITEM is a'
    ' condition {"field", "op", "value"} or a nested group. Which operators and values a field'
    " takes, and that codes exist, is checked by the server (422 with each error's path)."
)
# The filter's shape; what each condition may hold depends on its field (docs/segments.md).
FILTER_SHAPE = documented(
    type="object",
    minProperties=1,
    maxProperties=1,
    properties={"all": {"type": "array"}, "any": {"type": "array"}},
    additionalProperties=False,
)


def filter_field() -> Any:
    return NinjaField(..., description=FILTER_DOC, json_schema_extra=FILTER_SHAPE)


class FilterIn(Schema):
    filter: Any = filter_field()


class SegmentIn(Schema):
    name: str = NinjaField(
        ...,
        min_length=1,
        max_length=segments.NAME_MAX,
        description="Unique per merchant",
        json_schema_extra=documented(pattern=NOT_BLANK),
    )
    filter: Any = filter_field()


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
