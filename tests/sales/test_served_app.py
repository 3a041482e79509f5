"""The application gunicorn serves: /api/ through API_MIDDLEWARE, the rest through MIDDLEWARE."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from patron import wsgi
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def call(path: str, method: str = "GET", body: bytes = b"", **headers: str):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    answer: dict = {}

    def start_response(status: str, response_headers: list) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    # As Django's test client does: a request's start and end would close the test's
    # connection (it is inside the test's transaction), which PostgreSQL's tests can't survive.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        answer["body"] = b"".join(wsgi.application(environ, start_response))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return answer


def chain(handler) -> list[str]:
    """The middleware classes of a handler's chain, outermost first."""
    names, current = [], handler._middleware_chain
    while hasattr(current, "__wrapped__") or hasattr(current, "get_response"):
        current = getattr(current, "__wrapped__", current)
        if not hasattr(current, "get_response"):
            break
        names.append(f"{type(current).__module__}.{type(current).__name__}")
        current = current.get_response
    return names


def test_api_requests_pass_only_the_api_middleware():
    assert chain(wsgi.api) == settings.API_MIDDLEWARE
    assert chain(wsgi.console) == settings.MIDDLEWARE
    assert set(settings.API_MIDDLEWARE) < set(settings.MIDDLEWARE)


def test_a_sale_through_the_served_application(api_key, gold):
    body = {
        "member": gold.pk,
        "store": "S1",
        "lines": [{"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000}],
    }
    answer = call(
        "/api/v1/sales",
        "POST",
        json.dumps(body).encode(),
        authorization=f"Bearer {api_key}",
        idempotency_key="wsgi-1",
        accept_language="en",
    )
    assert answer["status"] == 201, answer["body"]
    assert json.loads(answer["body"])["total"] == 2000
    assert "Set-Cookie" not in answer["headers"] and "X-Frame-Options" not in answer["headers"]
    assert answer["headers"]["Content-Language"] == "en"  # LocaleMiddleware still runs
    again = call(
        "/api/v1/sales",
        "POST",
        json.dumps(body).encode(),
        authorization=f"Bearer {api_key}",
        idempotency_key="wsgi-1",
    )
    assert again["headers"]["Idempotent-Replayed"] == "true" and again["body"] == answer["body"]


def test_api_errors_stay_problem_json_and_console_keeps_its_middleware(api_key):
    missing = call("/api/v1/no-such-thing", authorization=f"Bearer {api_key}")
    assert missing["status"] == 404
    assert missing["headers"]["Content-Type"] == "application/problem+json"
    login = call("/login/")
    assert login["status"] == 200
    assert login["headers"]["X-Frame-Options"] == "DENY"


# What one till sale sends, by statement (see docs/checkout-benchmarks.md): the API key; BEGIN;
# the Idempotency-Key claim; settings; the member with figures; the sale with its
# lines, discounts and tenders (one statement on PostgreSQL, four on SQLite); the ledger's postings
# (three on PostgreSQL, eight on SQLite: tests/ledger/test_postings.py); the sale's ledger ids
# and the member's figures (one statement on PostgreSQL, two on SQLite); the sale.completed
# event in the outbox (one INSERT, docs/events.md); the member's insight windows and lifecycle
# stage (one upsert returning the row, patron.insight.stats; a second, third and fourth, the
# lifecycle.changed event, only when the stage moves); the member's facets (what they buy by
# category, SKU, size and colour: one read and one upsert, patron.insight.history_facets); the
# stored answer; COMMIT. Each is a round trip that
# costs app and database CPU. A sale that spends points or stored value also asks whether the
# member's card is reported lost (the spend guards, docs/cards.md): one indexed look-up.
STATEMENTS_PER_SALE = {"postgresql": 17, "sqlite": 26}


def test_a_till_sale_sends_a_fixed_number_of_statements(api_key, gold):
    body = {
        "member": gold.pk,
        "store": "S1",
        "lines": BASKET,
        "codes": ["SPRING10"],
        "points_to_redeem": 1000,
        "stored_value": 5000,
    }
    headers = {"authorization": f"Bearer {api_key}"}
    call("/api/v1/sales", "POST", json.dumps(body).encode(), idempotency_key="warm", **headers)
    with CaptureQueriesContext(connection) as captured:
        answer = call(
            "/api/v1/sales", "POST", json.dumps(body).encode(), idempotency_key="pin", **headers
        )
    assert answer["status"] == 201, answer["body"]
    sent = [query["sql"][:80] for query in captured.captured_queries]
    assert len(sent) == STATEMENTS_PER_SALE[connection.vendor], "\n".join(sent)
