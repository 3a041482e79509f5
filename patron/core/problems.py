"""RFC 9457 problem+json answers: one shape for the API, its middleware and idempotency."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja import Schema

CONTENT_TYPE = "application/problem+json"


class Problem(Schema):
    """The error body every API operation documents (API.md §3)."""

    type: str
    status: int
    title: str
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None


def problem_body(
    status: int, code: str, title: str, detail: str, errors: list[dict] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": title,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem(
    status: int, code: str, title: str, detail: str, errors: list[dict] | None = None
) -> HttpResponse:
    return HttpResponse(
        json.dumps(problem_body(status, code, title, detail, errors), ensure_ascii=False),
        status=status,
        content_type=CONTENT_TYPE,
    )
