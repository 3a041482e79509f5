from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema

from patron.core.problems import Problem
from patron.program import services

router = Router(tags=["program"])


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
def put_program(request: HttpRequest, payload: Body[dict[str, Any]], dry_run: bool = False):
    # Body[...]: a bare dict parameter is read by ninja from the query string, not the body.
    changes = services.apply_program(request.actor, payload, dry_run=dry_run)
    return {
        "dry_run": dry_run,
        "changes": [str(c) for c in changes],
        "program": services.export_program(request.actor),
    }
