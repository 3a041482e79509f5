"""A body over the API's limit (1 MiB) is a 413 problem+json, answered from Content-Length
before the body is read, with or without an Idempotency-Key; the console's member import
still takes files larger than that."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.conf import settings
from django.test import Client

from patron.core.models import IdempotencyRecord
from patron.members.models import ImportBatch

pytestmark = pytest.mark.django_db
LIMIT = 1024 * 1024
HUGE = 55 * 1024 * 1024


class UnreadableStream:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def assert_too_large(response) -> None:
    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (413, "payload_too_large")
    assert "1024 KiB" in body["detail"]


def test_the_api_limit_is_one_mebibyte():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == LIMIT


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "big-1"}])
def test_a_body_over_the_limit_is_413_problem_json(api, headers):
    body = json.dumps({"mobile": "13800138000", "name": "x" * LIMIT})
    response = api.post("/api/v1/members", body, content_type="application/json", headers=headers)
    assert_too_large(response)
    assert not IdempotencyRecord.objects.exists()  # nothing claimed, nothing to replay


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "big-2"}])
def test_a_55_mb_declared_body_is_refused_before_it_is_read(api, headers):
    response = api.post(
        "/api/v1/sales",
        b"{}",
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH=str(HUGE),
        **{"wsgi.input": UnreadableStream()},
    )
    assert_too_large(response)


def test_without_an_api_key_the_size_is_still_the_first_answer(db):
    response = Client().post(
        "/api/v1/members",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(HUGE),
        **{"wsgi.input": UnreadableStream()},
    )
    assert_too_large(response)


def test_a_body_at_the_limit_is_read_as_usual(api):
    body = json.dumps({"mobile": "13800138000", "name": ""}).ljust(LIMIT)
    response = api.post("/api/v1/members", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "big-3"}])
def test_a_refused_read_deeper_in_the_api_is_413_too(api, settings, headers):
    """The guard behind the middleware: without it, Django's RequestDataTooBig was a 500 from
    the API's catch-all handler (no key) or an HTML 400 (read by the Idempotency-Key check)."""
    settings.MIDDLEWARE = [
        name for name in settings.MIDDLEWARE if not name.endswith("ApiBodyLimitMiddleware")
    ]
    body = json.dumps({"mobile": "13800138000", "name": "x" * LIMIT})
    response = api.post("/api/v1/members", body, content_type="application/json", headers=headers)
    assert_too_large(response)


def test_the_console_member_import_still_takes_a_file_over_the_api_limit(hq, stores, settings):
    settings.DATA_DIR = settings.DATA_DIR / "body-limit-test"
    text = io.StringIO()
    rows = [["手机号", "姓名"], ["13800138000", "张三"]]
    rows += [["", ""]] * (LIMIT // 3 + 1)  # blank rows: skipped by the importer, but bytes
    csv.writer(text).writerows(rows)
    upload = io.BytesIO(text.getvalue().encode("utf-8-sig"))
    upload.name = "members.csv"
    assert len(upload.getvalue()) > LIMIT
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(hq.staff.user)

    response = client.post("/members/import/", {"file": upload})

    assert response.status_code == 302, response.content[:300]
    assert ImportBatch.objects.get().dry_run
