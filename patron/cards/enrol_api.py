"""Agreement units and group enrolment in the API (docs/enrolment.md). Registering with
`agreement_unit` or `qualifying_sales` is `POST /members` (members' own router)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict

from patron.cards import units
from patron.core.apitypes import documented
from patron.core.problems import Problem
from patron.members.schemas import BIRTHDAY_PATTERN
from patron.members.validation import MOBILE_PATTERN

router = Router(tags=["cards"])
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}
UnitCode = Path[str, {"pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"}]


def _not_null(schema: dict[str, Any]) -> None:
    """Left out is no change; null is refused (no `default: null` in the document)."""
    schema.pop("default", None)


def _mobile_or_empty(schema: dict[str, Any]) -> None:
    _not_null(schema)
    schema["pattern"] = f"^$|{MOBILE_PATTERN}"


Percent = Annotated[int, Field(ge=1, le=100)]
Day = Annotated[
    dt.date,
    Field(description="From 1900-01-01", json_schema_extra=documented(pattern=BIRTHDAY_PATTERN)),
]


class UnitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        None,
        max_length=100,
        description="A new unit without one is named by its code",
        json_schema_extra=_not_null,
    )
    discount: dict[str, Percent] = Field(
        None,
        description='Percent of the price by category (88 = 8.8折); "*" for every category',
        json_schema_extra=_not_null,
    )
    contact_name: str = Field(None, max_length=50, json_schema_extra=_not_null)
    contact_mobile: str = Field(
        None,
        max_length=20,
        description="Mainland mobile, or empty",
        json_schema_extra=_mobile_or_empty,
    )
    note: str = Field(None, max_length=200, json_schema_extra=_not_null)
    valid_until: Day | None = Field(None, description="null: no end date")
    is_active: bool = Field(None, json_schema_extra=_not_null)


class UnitOut(Schema):
    code: str
    name: str
    discount: dict[str, int]
    contact_name: str
    contact_mobile: str = Field(..., description="Masked unless the caller may see personal data")
    note: str
    valid_until: dt.date | None
    is_active: bool
    current: bool = Field(..., description="Active and not past valid_until: its prices apply")
    member_count: int | None


class UnitList(Schema):
    items: list[UnitOut]
    count: int


class PersonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mobile: str = Field(..., max_length=20)
    name: str | None = Field(None, max_length=50)


class GroupIn(Schema):
    model_config = ConfigDict(extra="forbid")

    members: list[PersonIn] = Field(..., min_length=1, max_length=units.MAX_GROUP)


class GroupRowOut(Schema):
    row: int
    mobile: str
    outcome: Literal["registered", "moved", "unchanged", "error"]
    member: int | None
    message: str


class GroupOut(Schema):
    registered: int
    moved: int
    unchanged: int
    errors: int
    rows: list[GroupRowOut]


@router.get("/units", response={200: UnitList, **ERRORS}, summary="Agreement units")
def list_units(request: HttpRequest):
    found = [units.present_unit(request.actor, unit) for unit in units.units_for(request.actor)]
    return {"items": found, "count": len(found)}


@router.get("/units/{code}", response={200: UnitOut, **ERRORS}, summary="One agreement unit")
def get_unit(request: HttpRequest, code: UnitCode):
    return units.present_unit(request.actor, units.unit_for(request.actor, code))


@router.put(
    "/units/{code}",
    response={200: UnitOut, 201: UnitOut, **ERRORS},
    summary="Create or change an agreement unit",
)
def put_unit(request: HttpRequest, code: UnitCode, payload: UnitIn):
    """Fields left out keep their values (a new unit needs `name`); 201 when created."""
    data = payload.model_dump(exclude_unset=True)
    unit, created = units.save_unit(request.actor, code, data)
    shown = units.present_unit(request.actor, units.unit_for(request.actor, unit.code))
    return Status(201 if created else 200, shown)


@router.post(
    "/units/{code}/members",
    response={200: GroupOut, **ERRORS},
    summary="Enrol people under an agreement unit",
)
def enrol_members(request: HttpRequest, code: UnitCode, payload: GroupIn):
    """New mobiles are registered under the unit, existing members moved under it; each row
    says what happened (a bad row does not stop the others). Running it again registers
    nobody twice."""
    unit = units.unit_for(request.actor, code)
    people = units.people_from_api(person.model_dump() for person in payload.members)
    result = units.enrol_group(request.actor, unit, people)
    return {
        "registered": result.registered,
        "moved": result.moved,
        "unchanged": result.unchanged,
        "errors": result.error_count,
        "rows": [
            {
                "row": row.line,
                "mobile": row.mobile,
                "outcome": row.outcome,
                "member": row.member_id,
                "message": row.message,
            }
            for row in result.rows
        ],
    }
