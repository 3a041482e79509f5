"""`Idempotency-Key` on API writes (API.md §3): replay, conflict, per merchant, 5xx not
stored, and real concurrency on PostgreSQL."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from patron.core.models import IdempotencyRecord
from patron.members import services as member_services
from patron.members.models import Member
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres]

URL = "/api/v1/members"
BODY = {"mobile": "13800138000", "name": "张三", "store": "S1"}


def post(client, body, key: str | None = "k-1", url: str = URL):
    headers = {"Idempotency-Key": key} if key else {}
    data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def test_same_key_same_body_replays_the_first_answer(api):
    first = post(api, BODY)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(api, BODY)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Content-Type"].startswith("application/json")
    assert Member.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="member").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.method, record.path) == ("k-1", "POST", URL)
    assert record.status_code == 201


def test_replay_returns_the_first_answer_even_after_later_changes(api):
    created = post(api, BODY).json()
    patch_body = json.dumps({"name": "李四"})
    url = f"{URL}/{created['id']}"
    first = api.patch(
        url, data=patch_body, content_type="application/json", headers={"Idempotency-Key": "p"}
    )
    api.patch(url, data=json.dumps({"name": "王五"}), content_type="application/json")
    again = api.patch(
        url, data=patch_body, content_type="application/json", headers={"Idempotency-Key": "p"}
    )
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["name"] == "李四"
    assert again.content == first.content
    assert Member.objects.get().name == "王五"  # the replay did not apply the patch again


@pytest.mark.parametrize(
    "other",
    [
        {**BODY, "name": "李四"},
        {"mobile": "13800138000", "store": "S1", "name": "张三"},  # same data, other bytes
    ],
)
def test_same_key_different_body_is_409(api, other):
    first = post(api, BODY)
    before = (Member.objects.count(), AuditEntry.objects.count())
    response = post(api, other)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "idempotency_conflict"
    assert problem["status"] == 409
    assert problem["title"] and problem["detail"]
    assert (Member.objects.count(), AuditEntry.objects.count()) == before
    assert post(api, BODY).content == first.content  # the original request still replays


def test_same_key_on_another_endpoint_is_409(api):
    post(api, BODY)
    response = api.put(
        "/api/v1/program",
        data=json.dumps({"categories": ["rooms"]}),
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"


def test_keys_are_per_merchant(api, other_api):
    mine = post(api, BODY)
    theirs = post(other_api, {**BODY, "store": None}, key="k-1")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert Member.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2
    # And the other merchant's different body under the same key is no conflict for me.
    assert post(api, BODY)["Idempotent-Replayed"] == "true"


def test_a_4xx_answer_is_replayed_too(api):
    post(api, BODY, key=None)
    first = post(api, BODY, key="dup")
    assert first.status_code == 409
    assert first.json()["code"] == "duplicate_mobile"
    Member.objects.all().delete()
    second = post(api, BODY, key="dup")
    assert second.status_code == 409
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Content-Type"].startswith("application/problem+json")
    assert Member.objects.count() == 0


def test_a_validation_error_is_replayed_too(api):
    first = post(api, {"mobile": "123"}, key="bad")
    assert first.status_code == 422
    second = post(api, {"mobile": "123"}, key="bad")
    assert (second.status_code, second["Idempotent-Replayed"]) == (422, "true")
    assert second.content == first.content


def test_a_5xx_is_not_stored_and_its_writes_are_undone(api, monkeypatch):
    real_register = member_services.register_member

    def register_then_crash(actor, data, **kwargs):
        real_register(actor, data, **kwargs)  # writes, then the handler fails
        raise RuntimeError("database went away")

    monkeypatch.setattr(member_services, "register_member", register_then_crash)
    failed = post(api, BODY)
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"
    assert Member.objects.count() == 0  # the write before the crash was rolled back
    assert AuditEntry.objects.filter(object_type="member").count() == 0
    assert IdempotencyRecord.objects.count() == 0

    monkeypatch.setattr(member_services, "register_member", real_register)
    retried = post(api, BODY)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Member.objects.count() == 1
    assert post(api, BODY)["Idempotent-Replayed"] == "true"


def test_without_a_key_nothing_is_recorded(api):
    assert post(api, BODY, key=None).status_code == 201
    assert post(api, BODY, key=None).json()["code"] == "duplicate_mobile"
    assert IdempotencyRecord.objects.count() == 0


def test_reads_ignore_the_key(api):
    post(api, BODY)
    response = api.get(URL, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("bad_key", ["k" * 256, ""])
def test_an_over_long_or_empty_key_is_422(api, bad_key):
    response = api.post(
        URL,
        data=json.dumps(BODY),
        content_type="application/json",
        headers={"Idempotency-Key": bad_key},
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"
    assert Member.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert post(api, BODY, key="k" * 255).status_code == 201


def test_a_key_with_a_bad_api_key_is_401_and_not_recorded(client, api_key):
    response = client.post(
        URL,
        data=json.dumps(BODY),
        content_type="application/json",
        headers={"Idempotency-Key": "k-1", "Authorization": "Bearer pk_bad_key"},
    )
    assert response.status_code == 401
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_member(api_key):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no real race")
    workers = 10
    barrier = threading.Barrier(workers)
    results: list[tuple[int, bytes, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {api_key}"})
            barrier.wait(timeout=30)
            response = post(client, BODY, key="race")
            with lock:
                results.append(
                    (response.status_code, response.content, response.get("Idempotent-Replayed"))
                )
        except BaseException as error:  # reported below, in the test's thread
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == workers
    assert {status for status, _, _ in results} == {201}
    assert len({body for _, body, _ in results}) == 1
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 9
    assert Member.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="member").count() == 1


def test_a_method_no_operation_answers_is_405_even_with_a_used_key(api):
    post(api, BODY)
    wrong_method = api.put(
        URL,
        data=json.dumps(BODY),
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert wrong_method.status_code == 405  # not 409 idempotency_conflict
    fresh_key = api.delete(f"{URL}/1", headers={"Idempotency-Key": "k-2"})
    assert fresh_key.status_code == 405
    unknown_path = api.post("/api/v1/nowhere", headers={"Idempotency-Key": "k-3"})
    assert unknown_path.status_code == 404
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-1"]


@pytest.mark.parametrize("authorization", ["Bearer  {key}", "Bearer {key} ", "bearer {key}"])
def test_the_api_and_the_middleware_agree_on_the_caller(client, api_key, authorization):
    """A header the middleware reads as the merchant's key must authenticate in the API too;
    otherwise a 401 would be stored and replayed under that merchant's Idempotency-Key."""
    headers = {"Authorization": authorization.format(key=api_key), "Idempotency-Key": "k-1"}
    response = client.post(
        URL, data=json.dumps(BODY), content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    assert IdempotencyRecord.objects.get().status_code == 201
