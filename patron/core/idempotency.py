"""Generic `Idempotency-Key` handling for every API write (API.md §3).

Same key + same request -> the first stored response (same status, same body), nothing applied
twice. Same key + different request -> 409 `idempotency_conflict`. The record and the write it
guards commit in one transaction: a concurrent duplicate blocks on the unique index (PostgreSQL)
or on the write lock (SQLite) and then replays the committed answer.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.module_loading import import_string

from patron.core import rawsql
from patron.core.middleware import payload_too_large
from patron.core.models import IdempotencyRecord
from patron.core.problems import problem

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


# True while a request runs inside the middleware's transaction (see `atomic_write`).
_GUARDING = contextvars.ContextVar("patron_idempotency_guarding", default=False)


def atomic_write() -> transaction.Atomic:
    """`transaction.atomic()` for a write that may fail after writing.

    Inside the Idempotency-Key middleware's transaction it takes no savepoint: a failure
    marks the whole transaction for rollback and the middleware stores the error answer in a
    new one (`_FailedPartWay`), which saves the SAVEPOINT / RELEASE round trips on every
    sale. Anywhere else (console, CLI, a test's transaction) it is a plain nested atomic.
    """
    return transaction.atomic(savepoint=not _GUARDING.get())


class _RollBack(Exception):
    """Raised to undo a write whose response must not be stored (5xx)."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class _FailedPartWay(_RollBack):
    """Raised to undo a write that failed after writing (its transaction is marked for
    rollback); its 4xx answer is then stored in a transaction of its own."""


def request_fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


@functools.cache
def operation_methods() -> dict[str, set[str]]:
    """{"/api/v1/members/{member_id}": {"GET", "PATCH"}, ...} from the OpenAPI document of
    the API named by `settings.PATRON_API` (core knows no app: the wiring names it)."""
    api = import_string(settings.PATRON_API)
    paths = api.get_openapi_schema()["paths"]
    return {path: {method.upper() for method in operations} for path, operations in paths.items()}


@functools.cache
def api_key_lookup():
    """`Authorization` header -> the caller's API key (with `merchant_id`) or None; named by
    `settings.PATRON_API_KEY_LOOKUP`."""
    return import_string(settings.PATRON_API_KEY_LOOKUP)


def has_operation(request: HttpRequest) -> bool:
    """Whether an API operation answers this method at this path. Requests that none answers
    get their plain 404 / 405 and are neither recorded nor compared with a stored key."""
    return _answers(request.method, request.path_info)


@functools.lru_cache(maxsize=4096)
def _answers(method: str, path_info: str) -> bool:
    # Cached: the handler resolves the path again for the view, and a till posts to the same
    # path all day. Routes are fixed at start-up, so an answer never goes stale.
    try:
        match = resolve(path_info)
    except Resolver404:
        return False
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)
    return method in operation_methods().get(path, set())


def key_for(request: HttpRequest, prefix: str) -> str:
    """A service's own idempotency key for this write: the client's Idempotency-Key when sent
    (prefixed with the kind of write, so one key can never be two kinds of movement), else a
    fresh one."""
    header = request.headers.get("Idempotency-Key")
    if not header:
        return f"{prefix}:{uuid.uuid4()}"
    key = f"{prefix}:{header}"
    if len(key) > MAX_KEY_LENGTH:
        # A header of up to MAX_KEY_LENGTH characters is valid: prefixed, it may no longer fit
        # the services' keys (and columns). Its digest stands for it, the same on every retry.
        key = f"{prefix}:sha256:{hashlib.sha256(header.encode()).hexdigest()}"
    return key


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if (
            key is None
            or request.method not in WRITE_METHODS
            or not request.path.startswith("/api/")
            or not has_operation(request)
        ):
            return self.get_response(request)
        if not 1 <= len(key) <= MAX_KEY_LENGTH:  # an empty key is a client bug, not "no key"
            return problem(
                422,
                "validation_error",
                "Invalid Idempotency-Key",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            )
        api_key = api_key_lookup()(request.META.get("HTTP_AUTHORIZATION", ""))
        # The API's own auth reuses this look-up (same header, same request): one query, not two.
        request.patron_api_key = api_key
        if api_key is None:
            return self.get_response(request)  # the API answers 401 itself
        return self._guarded(request, api_key.merchant_id, key)

    def _guarded(self, request: HttpRequest, merchant_id: int, key: str) -> HttpResponse:
        try:
            fingerprint = request_fingerprint(request)
        except RequestDataTooBig:  # Django's own error page here would be an HTML 400
            return payload_too_large()
        try:
            with transaction.atomic():
                record_id = _claim(merchant_id, key, request, fingerprint)
                if record_id is None:  # the key was used before (or is in use right now)
                    return self._answer_used_key(merchant_id, key, fingerprint)
                guarding = _GUARDING.set(True)
                try:
                    response = self.get_response(request)
                finally:
                    _GUARDING.reset(guarding)
                if response.status_code >= 500 or getattr(response, "streaming", False):
                    raise _RollBack(response)
                if transaction.get_connection().needs_rollback:
                    raise _FailedPartWay(response)
                _store(record_id, response)
                return response
        except _FailedPartWay as failed:
            return self._store_failure(request, merchant_id, key, fingerprint, failed.response)
        except _RollBack as rollback:
            return rollback.response

    @staticmethod
    def _answer_used_key(merchant_id: int, key: str, fingerprint: str) -> HttpResponse:
        existing = IdempotencyRecord.objects.get(merchant_id=merchant_id, key=key)
        if existing.request_hash != fingerprint:
            return problem(
                409,
                "idempotency_conflict",
                "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request.",
            )
        return replay(existing)

    def _store_failure(
        self,
        request: HttpRequest,
        merchant_id: int,
        key: str,
        fingerprint: str,
        response: HttpResponse,
    ) -> HttpResponse:
        """Record the 4xx answer of a write that was rolled back as a whole.

        The key is claimed again: a duplicate that claimed it in between (it waited on our
        claim, which the rollback released) has applied the request by now, so its answer is
        the one both get.
        """
        with transaction.atomic():
            record_id = _claim(merchant_id, key, request, fingerprint)
            if record_id is None:
                return self._answer_used_key(merchant_id, key, fingerprint)
            _store(record_id, response)
        return response


_RECORD = rawsql.Table(IdempotencyRecord)
STORE = rawsql.Statement(
    "UPDATE {r} SET {r.status_code} = %s, {r.content_type} = %s, {r.response_body} = %s"
    " WHERE {r.id} = %s",
    r=_RECORD,
)


def _store(record_id: int, response: HttpResponse) -> None:
    rawsql.execute(
        STORE,
        [
            response.status_code,
            response.get("Content-Type", "application/json"),
            response.content,
            record_id,
        ],
    )


CLAIM = rawsql.Statement(
    "INSERT INTO {r} ({r.merchant_id}, {r.key}, {r.method}, {r.path}, {r.request_hash},"
    " {r.status_code}, {r.content_type}, {r.response_body}, {r.created_at})"
    " VALUES (%s, %s, %s, %s, %s, 0, 'application/json', %s, %s)"
    " ON CONFLICT ({r.merchant_id}, {r.key}) DO NOTHING RETURNING {r.id}",
    r=_RECORD,
)


def _claim(merchant_id: int, key: str, request: HttpRequest, fingerprint: str) -> int | None:
    """Record the key for this request; None when it is already recorded.

    ON CONFLICT instead of catching IntegrityError under a savepoint: one statement, not three,
    on every API write. A concurrent duplicate waits here (PostgreSQL) until the first request
    commits, then finds its record.
    """
    row = rawsql.fetch_one(
        CLAIM,
        [
            merchant_id,
            key,
            request.method,
            request.path[:500],
            fingerprint,
            b"",
            rawsql.db_datetime(timezone.now()),
        ],
    )
    return row[0] if row else None
