"""The REST API (`/api/v1`): auth by merchant API key, RFC 9457 problem+json errors."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from patron.core.errors import DomainError
from patron.tenancy.actor import Actor
from patron.tenancy.middleware import client_ip
from patron.tenancy.models import ApiKey
from patron.tenancy.selectors import api_key_from_token

log = logging.getLogger(__name__)


class ApiKeyAuth(HttpBearer):
    openapi_description = (
        "A merchant API key: `Authorization: Bearer pk_…` (see `patron apikey create`)."
    )

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = api_key_from_token(token)
        if key is None:
            return None
        request.actor = Actor(
            merchant=key.merchant, api_key=key, ip=client_ip(request), channel="api"
        )
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key


class UnicodeJSONRenderer(JSONRenderer):
    """Chinese names stay readable in responses (no \\uXXXX escapes)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=UnicodeJSONRenderer(),
    title="Patron API",
    version="1",
    description=(
        "Membership, stored value, points and checkout for merchants and chains. Money is "
        "integer fen; errors are RFC 9457 problem+json with a stable `code`; every write "
        "accepts an `Idempotency-Key` header."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def problem(
    request: HttpRequest,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict] | None = None,
) -> HttpResponse:
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
}


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(
        request,
        exc.status,
        exc.code,
        TITLES.get(exc.status, "Error"),
        str(exc.detail),
        [e.as_dict() for e in exc.errors],
    )


def _location(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _location(e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request"
    return problem(request, 422, "validation_error", "Unprocessable content", detail, errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request,
        401,
        "unauthorized",
        "Unauthorized",
        "Send a valid merchant API key as 'Authorization: Bearer <key>'.",
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "not_found", "Not found", str(exc) or "Not found")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    code = {400: "bad_request", 405: "method_not_allowed"}.get(status, "error")
    return problem(request, status, code, TITLES.get(status, "Error"), str(exc))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled API error")
    return problem(
        request,
        500,
        "internal_error",
        "Internal error",
        "Something went wrong on our side; nothing was changed.",
    )


def register_routers() -> None:
    from patron.members.api import router as members_router
    from patron.program.api import router as program_router

    api.add_router("/members", members_router)
    api.add_router("/program", program_router)


register_routers()
