from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema
from pydantic import GetJsonSchemaHandler, RootModel
from pydantic_core import CoreSchema

from patron.core.problems import Problem
from patron.program import services

router = Router(tags=["program"])


class ProgramFile(RootModel[dict[str, Any]]):
    """A program file as JSON. The services validate it (every error with its path); the
    document shows the program's own schema (the one `GET /program/schema` serves), built when
    the document is, after every app has registered its sections."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return services.program_body_schema()


class ApplyResult(Schema):
    dry_run: bool
    changes: list[str]
    program: dict[str, Any]


@router.get("", response={200: dict[str, Any], 401: Problem}, summary="The current program")
def get_program(request: HttpRequest):
    return services.export_program(request.actor)


@router.get(
    "/schema",
    response={200: dict[str, Any], 401: Problem},
    summary="The JSON Schema of program files",
)
def get_program_schema(request: HttpRequest):
    """For editors to validate and complete program files (YAML or JSON)."""
    return services.program_json_schema()


@router.put(
    "",
    response={200: ApplyResult, 401: Problem, 422: Problem},
    summary="Apply a program file (JSON)",
)
def put_program(request: HttpRequest, payload: Body[ProgramFile], dry_run: bool = False):
    # Body[...]: a bare dict parameter is read by ninja from the query string, not the body.
    changes = services.apply_program(request.actor, payload.root, dry_run=dry_run)
    return {
        "dry_run": dry_run,
        "changes": [str(c) for c in changes],
        "program": services.export_program(request.actor),
    }
