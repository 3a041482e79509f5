"""The REST API (`/api/v1`): auth by merchant API key, RFC 9457 problem+json errors."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer

from patron.core import problems
from patron.core.apitypes import NO_NUL
from patron.core.errors import DomainError, FieldError, ValidationFailed
from patron.core.middleware import payload_too_large
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
        # Stripped as in api_key_from_authorization, which the idempotency middleware uses:
        # both must agree on who is calling, or a 401 could be stored under a merchant's key.
        if hasattr(request, "patron_api_key"):  # already resolved by IdempotencyMiddleware
            key = request.patron_api_key
        else:
            key = api_key_from_token(token.strip())
        if key is None:
            return None
        request.actor = Actor(
            merchant=key.merchant, api_key=key, ip=client_ip(request), channel="api"
        )
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key


class MerchantJSONEncoder(NinjaJSONEncoder):
    """Times in the merchant's zone with its offset (`2027-03-02T12:00:00+08:00`, API.md §3),
    not in UTC with `Z`: integrators read and store them as the merchant's local times."""

    def __init__(self, *args: Any, zone: dt.tzinfo = dt.UTC, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime) and o.tzinfo is not None:
            return rfc3339(o, self.zone)
        return super().default(o)


def rfc3339(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`moment` in `zone`, as RFC 3339 can write it: the offset in whole minutes (a zone's local
    mean time, Shanghai's before 1901, has seconds: then UTC), and as given where the zone's
    time would leave the calendar."""
    try:
        shown = moment.astimezone(zone)
        offset = shown.utcoffset()
        if offset is not None and offset % dt.timedelta(minutes=1):
            shown = moment.astimezone(dt.UTC)
    except OverflowError:
        shown = moment
    return shown.isoformat()


def answer_zone(request: HttpRequest) -> dt.tzinfo:
    """The calling merchant's zone; UTC before authentication (a 401 names no merchant)."""
    actor = getattr(request, "actor", None)
    return ZoneInfo(actor.merchant.timezone) if actor is not None else dt.UTC


class MerchantJSONRenderer(JSONRenderer):
    """Chinese names stay readable (no backslash-u escapes); times carry the merchant's offset."""

    encoder_class = MerchantJSONEncoder

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return json.dumps(
            data, cls=self.encoder_class, ensure_ascii=False, zone=answer_zone(request)
        )


def nul_paths(data: Any) -> list[str]:
    """Dotted paths of every string (key or value) in a JSON document that holds a NUL."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    found.append(child)
                else:
                    stack.append((child, item))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )
    return sorted(found)


NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."


class StrictJSONParser(Parser):
    """Bad JSON is a 422 `validation_error` saying what is wrong, and text holding NUL is refused
    up front: PostgreSQL cannot store or even compare it, so it would otherwise end as a 500."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError) as error:
            message = f"The request body is not valid JSON: {error}"
            raise ValidationFailed([FieldError("body", message)], detail=message) from None
        # In UTF-8 JSON a NUL can only come as the escape \u0000 (json.loads refuses a raw
        # one); UTF-16/32 bodies hold zero bytes: only those two kinds need the walk.
        body = request.body
        paths = nul_paths(data) if b"\\u0000" in body or b"\x00" in body else []
        if paths:
            raise ValidationFailed([FieldError(path, NUL_MESSAGE) for path in paths])
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        paths = sorted({key for key, values in data.lists() for v in [key, *values] if "\x00" in v})
        if paths:
            raise ValidationFailed([FieldError(path, NUL_MESSAGE) for path in paths])
        return super().parse_querydict(data, list_fields, request)


IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "Send the same key to retry safely: the same request gets the first answer again "
        "(with `Idempotent-Replayed: true`); a different request is 409 `idempotency_conflict`."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
# What every write may answer besides its own results: a reused Idempotency-Key, a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE (ApiBodyLimitMiddleware), an over-long key.
WRITE_ANSWERS = (("409", "Conflict"), ("413", "Payload too large"), ("422", "Unprocessable"))
# Keywords that already constrain a string's text (a pattern, a format, a list of values).
TEXT_RULES = {"pattern", "format", "enum", "const"}


# Any JSON value whose text holds no NUL: what a request may carry where the operation reads
# no particular shape (custom fields, keys it ignores).
JSON_VALUE = "JsonWithoutNul"
JSON_VALUE_SCHEMA = {
    "description": "Any JSON value; no text in it (value or key) holds a NUL.",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": {"$ref": f"#/components/schemas/{JSON_VALUE}"}},
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"$ref": f"#/components/schemas/{JSON_VALUE}"},
        },
    ],
}


def refuse_nul(node: Any, components: dict[str, Any], seen: set[str]) -> None:
    """State what StrictJSONParser enforces: no string of a request holds a NUL, nor does a
    key of a free-form object. Walks a request body or parameter schema and the components it
    names (each once)."""
    if isinstance(node, list):
        for item in node:
            refuse_nul(item, components, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            refuse_nul(components.get(name), components, seen)
    if node.get("type") == "string" and not TEXT_RULES & node.keys():
        node["pattern"] = NO_NUL
    if node.get("type") == "object" and node.get("additionalProperties", True) in (True, {}):
        # Keys the operation does not read are ignored, but NUL is refused in them too.
        node["propertyNames"] = {"pattern": NO_NUL}
        node["additionalProperties"] = {"$ref": f"#/components/schemas/{JSON_VALUE}"}
    for key, value in node.items():
        if key not in ("enum", "const", "default", "examples", "example"):
            refuse_nul(value, components, seen)


class PatronAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Ninja's document, made honest about what every operation answers: errors are
        `application/problem+json`, and writes take an `Idempotency-Key` (and so may answer
        409 for a reused key or 422 for an over-long one) and a body of at most 1 MiB (413);
        and about what it takes: no text with a NUL (`refuse_nul`)."""
        schema = super().get_openapi_schema(**kwargs)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components[JSON_VALUE] = JSON_VALUE_SCHEMA
        walked: set[str] = {JSON_VALUE}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                # ninja keys responses by int; JSON keys are text, so one key per status.
                responses = {
                    str(code): answer for code, answer in operation.get("responses", {}).items()
                }
                operation["responses"] = responses
                if method in WRITE_METHODS:
                    operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_HEADER))
                    for status, description in WRITE_ANSWERS:
                        responses.setdefault(
                            status,
                            {"description": description, "content": {"": {"schema": problem_ref}}},
                        )
                for status, response in responses.items():
                    content = response.get("content", {})
                    if int(status) >= 400 and content:
                        body = content.get("application/json") or next(iter(content.values()))
                        response["content"] = {"application/problem+json": body}
                refuse_nul(operation.get("requestBody"), components, walked)
                refuse_nul(operation.get("parameters"), components, walked)
        return schema


api = PatronAPI(
    parser=StrictJSONParser(),
    renderer=MerchantJSONRenderer(),
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
    return problems.problem(
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
    return problems.problem(422, "validation_error", "Unprocessable content", detail, errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problems.problem(
        401,
        "unauthorized",
        "Unauthorized",
        "Send a valid merchant API key as 'Authorization: Bearer <key>'.",
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problems.problem(404, "not_found", "Not found", str(exc) or "Not found")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):  # raised by StrictJSONParser.parse_body
        return on_domain_error(request, exc.__cause__)
    status = exc.status_code
    code = {400: "bad_request", 405: "method_not_allowed"}.get(status, "error")
    return problems.problem(status, code, TITLES.get(status, "Error"), str(exc))


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # ApiBodyLimitMiddleware answers first from Content-Length; this covers a read that is
    # refused anyway (it would otherwise be a 500 from the handler below).
    return payload_too_large()


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled API error")
    return problems.problem(
        500,
        "internal_error",
        "Internal error",
        "Something went wrong on our side; nothing was changed.",
    )


def register_routers() -> None:
    from patron.activities.checkin_api import router as checkin_router
    from patron.activities.event_api import router as activity_event_router
    from patron.activities.lottery_api import router as lottery_router
    from patron.activities.mall_api import router as mall_router
    from patron.campaigns.api import router as campaigns_router
    from patron.campaigns.inbox_api import router as inbox_router
    from patron.cards.api import router as cards_router
    from patron.cards.enrol_api import router as enrol_router
    from patron.cards.membership_api import router as membership_router
    from patron.cards.tier_api import router as tier_router
    from patron.catalogue.api import router as catalogue_router
    from patron.events.webhook_api import router as webhook_router
    from patron.insight.dashboard_api import router as dashboard_router
    from patron.insight.feedback_api import router as feedback_router
    from patron.insight.segment_api import router as segment_router
    from patron.members.api import router as members_router
    from patron.network.alliance_api import router as alliance_router
    from patron.network.commission_api import router as commission_router
    from patron.network.settlement_api import router as settlement_router
    from patron.program.api import router as program_router
    from patron.promotions.api import router as promotions_router
    from patron.sales.api import router as sales_router
    from patron.wallet.api import router as wallet_router
    from patron.whatif.api import router as whatif_router

    api.add_router("/members", members_router)
    api.add_router("/program", program_router)
    api.add_router("/program", whatif_router)
    api.add_router("/", wallet_router)
    api.add_router("/", promotions_router)
    api.add_router("/", sales_router)
    api.add_router("/", catalogue_router)
    api.add_router("/", cards_router)
    api.add_router("/", tier_router)
    api.add_router("/", membership_router)
    api.add_router("/", enrol_router)
    api.add_router("/", segment_router)
    api.add_router("/", dashboard_router)
    api.add_router("/", feedback_router)
    api.add_router("/", campaigns_router)
    api.add_router("/", inbox_router)
    api.add_router("/", webhook_router)
    api.add_router("/", mall_router)
    api.add_router("/", lottery_router)
    api.add_router("/", checkin_router)
    api.add_router("/", activity_event_router)
    api.add_router("/", settlement_router)
    api.add_router("/", commission_router)
    api.add_router("/", alliance_router)


register_routers()
