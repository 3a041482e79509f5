"""POST / GET / PATCH /api/v1/members (API.md §3): shapes, filters, tenancy, auth, errors.

Every rejected request is checked to have written nothing (members, audit, idempotency)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from stdnum import luhn
from stdnum.cn import ric

from patron.core.models import IdempotencyRecord
from patron.members.models import ConsentRecord, CustomField, Member
from patron.members.services import define_custom_field
from patron.tenancy.models import ApiKey, AuditEntry
from patron.tenancy.services import create_api_key, revoke_api_key

pytestmark = [pytest.mark.postgres]

URL = "/api/v1/members"


def valid_id_number(body17: str = "11010519491231002") -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


VALID_ID = valid_id_number()  # 11010519491231002X


def post(client, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def patch(client, member_id, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.patch(
        f"{URL}/{member_id}", data=data, content_type="application/json", headers=headers
    )


def writes() -> tuple[int, int, int, int]:
    return (
        Member.objects.count(),
        AuditEntry.objects.count(),
        IdempotencyRecord.objects.count(),
        ConsentRecord.objects.count(),
    )


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


@pytest.fixture
def custom_fields(system):
    define_custom_field(system, "size", "衣服尺码", CustomField.Kind.CHOICE, ["S", "M", "L"])
    define_custom_field(system, "colour", "喜欢的颜色", CustomField.Kind.TEXT)
    define_custom_field(system, "shoe", "鞋码", CustomField.Kind.NUMBER)
    define_custom_field(system, "anniversary", "纪念日", CustomField.Kind.DATE)


# --- create ----------------------------------------------------------------------------------


def test_create_returns_201_with_the_member(api, custom_fields):
    response = post(
        api,
        {
            "mobile": "+86 138-0013-8000",
            "name": "张三",
            "gender": "M",
            "birthday": "1990-03-07",
            "id_number": VALID_ID,
            "email": "zhang@example.com",
            "store": "S1",
            "tags": ["商务", "VIP"],
            "consent": {"sms": True},
            "custom": {"size": "M", "shoe": "42", "anniversary": "2020-05-20"},
        },
    )
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    member = Member.objects.get()
    assert body["id"] == member.pk
    assert body["card_no"] == member.card_no
    assert luhn.is_valid(body["card_no"])
    assert body["mobile"] == "138****8000"  # API.md §3: mobile (masked)
    assert body["mobile_masked"] == "138****8000"
    assert body["id_number"] == VALID_ID[:3] + "*" * 11 + VALID_ID[-4:]
    assert member.mobile == "13800138000" and member.id_number == VALID_ID
    assert body["name"] == "张三"
    assert body["gender"] == "M"
    assert body["birthday"] == "1990-03-07"
    assert body["store"] == "S1"
    assert body["tags"] == ["VIP", "商务"]
    assert body["consent"] == {"sms": True, "wechat": False, "email": False}
    assert body["custom"] == {"size": "M", "shoe": 42, "anniversary": "2020-05-20"}
    assert body["source_channel"] == "api"
    assert body["status"] == "active"
    assert "tier" in body
    assert len(body["referral_code"]) == 8
    assert body["referral_code"] == member.referral_code
    joined = dt.datetime.fromisoformat(body["joined_at"].replace("Z", "+00:00"))
    assert joined.tzinfo is not None
    # Chinese stays readable in the raw body.
    assert "张三" in response.content.decode()


def test_create_minimal_body_and_audit_by_api_key(api, api_key):
    response = post(api, {"mobile": "13800138000"})
    assert response.status_code == 201
    body = response.json()
    assert body["store"] is None
    assert body["name"] == ""
    assert body["id_number"] is None
    entry = AuditEntry.objects.get(object_type="member")
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.channel == "api"
    assert entry.api_key == ApiKey.objects.get(merchant=entry.merchant)
    assert entry.object_id == str(body["id"])
    assert entry.changes["mobile"] == ["***", "***"]
    assert "13800138000" not in json.dumps(entry.changes)


def test_card_numbers_are_unique_and_luhn_valid(api):
    cards = {post(api, {"mobile": f"1380013800{i}"}).json()["card_no"] for i in range(5)}
    assert len(cards) == 5
    assert all(luhn.is_valid(card) for card in cards)


def test_referrer_code_links_the_new_member(api):
    referrer = post(api, {"mobile": "13800138000"}).json()
    response = post(
        api, {"mobile": "13900139000", "referrer_code": referrer["referral_code"].lower()}
    )
    assert response.status_code == 201
    assert Member.objects.get(pk=response.json()["id"]).referred_by_id == referrer["id"]


def test_id_number_is_encrypted_at_rest(api):
    member_id = post(api, {"mobile": "13800138000", "id_number": VALID_ID}).json()["id"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM members_member WHERE id = %s", [member_id])
        (stored,) = cursor.fetchone()
    assert VALID_ID not in stored
    assert Member.objects.get(pk=member_id).id_number == VALID_ID


# --- read and list ---------------------------------------------------------------------------


def test_get_one_member(api):
    created = post(api, {"mobile": "13800138000", "name": "李四"}).json()
    response = api.get(f"{URL}/{created['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body == created
    assert {"tier", "stats", "lifecycle"} <= set(body)


def test_list_filters_and_paging(api):
    names = ["王五", "赵六", "王小明"]
    for index, name in enumerate(names):
        post(api, {"mobile": f"1390013900{index}", "name": name, "store": "S1"})
    post(api, {"mobile": "13700137000", "name": "钱七", "store": "S2"})
    everything = api.get(URL).json()
    assert everything["count"] == 4
    assert len(everything["items"]) == 4
    assert everything["page"] == 1

    by_q = api.get(URL, {"q": "王"}).json()
    assert {m["name"] for m in by_q["items"]} == {"王五", "王小明"}
    assert by_q["count"] == 2

    by_mobile = api.get(URL, {"mobile": "13700137000"}).json()
    assert [m["name"] for m in by_mobile["items"]] == ["钱七"]

    card = everything["items"][0]["card_no"]
    by_card = api.get(URL, {"card_no": card}).json()
    assert [m["card_no"] for m in by_card["items"]] == [card]

    by_prefix = api.get(URL, {"q": "1390013900"}).json()
    assert by_prefix["count"] == 3
    by_tail = api.get(URL, {"q": "7000"}).json()
    assert [m["name"] for m in by_tail["items"]] == ["钱七"]

    by_store = api.get(URL, {"store": "S2"}).json()
    assert by_store["count"] == 1

    first = api.get(URL, {"page_size": 3, "page": 1}).json()
    second = api.get(URL, {"page_size": 3, "page": 2}).json()
    assert (first["count"], len(first["items"])) == (4, 3)
    assert (second["count"], len(second["items"])) == (4, 1)
    ids = [m["id"] for m in first["items"] + second["items"]]
    assert sorted(ids) == sorted(m["id"] for m in everything["items"])
    beyond = api.get(URL, {"page_size": 3, "page": 9}).json()
    assert beyond["items"] == []
    assert beyond["count"] == 4


def test_list_rejects_bad_paging(api):
    body = assert_problem(api.get(URL, {"page": 0}), 422, "validation_error")
    assert "page" in error_fields(body)
    body = assert_problem(api.get(URL, {"page_size": 1000}), 422, "validation_error")
    assert "page_size" in error_fields(body)


def test_another_merchants_member_is_not_found(api, other_api):
    mine = post(api, {"mobile": "13800138000"}).json()
    theirs = post(other_api, {"mobile": "13800138000"})
    assert theirs.status_code == 201  # the same mobile at another merchant is fine
    assert_problem(other_api.get(f"{URL}/{mine['id']}"), 404, "not_found")
    before = writes()
    assert_problem(patch(other_api, mine["id"], {"name": "hijack"}), 404, "not_found")
    assert writes() == before
    assert Member.objects.get(pk=mine["id"]).name == ""
    assert other_api.get(URL).json()["count"] == 1
    assert api.get(URL, {"mobile": "13800138000"}).json()["items"][0]["id"] == mine["id"]


@pytest.mark.parametrize("member_id", ["999999", "9223372036854775808", "99999999999999999999"])
def test_unknown_member_is_not_found(api, member_id):
    assert_problem(api.get(f"{URL}/{member_id}"), 404, "not_found")


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer pk_nope", "Bearer pk_0123456789ab_wrong", "Basic abc", "pk_x"],
)
def test_requests_without_a_valid_key_are_401(client, api_key, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    before = writes()
    for response in (
        client.get(URL, headers=headers),
        client.post(
            URL,
            data=json.dumps({"mobile": "13800138000"}),
            content_type="application/json",
            headers={**headers, "Idempotency-Key": "k1"},
        ),
    ):
        assert_problem(response, 401, "unauthorized")
    assert writes() == before


def test_a_tampered_key_is_401(client, api_key):
    tampered = api_key[:-2] + ("AA" if not api_key.endswith("AA") else "BB")
    response = client.get(URL, headers={"Authorization": f"Bearer {tampered}"})
    assert_problem(response, 401, "unauthorized")


def test_a_revoked_key_is_401(client, system, stores):
    key, plain = create_api_key(system, "to revoke")
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(URL, headers=headers).status_code == 200
    revoke_api_key(system, key)
    assert_problem(client.get(URL, headers=headers), 401, "unauthorized")
    before = writes()
    response = client.post(
        URL,
        data=json.dumps({"mobile": "13800138000"}),
        content_type="application/json",
        headers={**headers, "Idempotency-Key": "after-revoke"},
    )
    assert_problem(response, 401, "unauthorized")
    assert writes() == before


def test_using_a_key_records_when_it_was_last_used(api, api_key):
    assert ApiKey.objects.get().last_used_at is None
    api.get(URL)
    assert ApiKey.objects.get().last_used_at is not None


# --- duplicate mobile ------------------------------------------------------------------------


def test_duplicate_mobile_is_409(api):
    post(api, {"mobile": "13800138000"})
    before = writes()
    body = assert_problem(post(api, {"mobile": "+8613800138000"}), 409, "duplicate_mobile")
    assert "mobile" in error_fields(body)
    assert writes() == before


def test_full_width_digits_are_the_same_mobile(api):
    """Chinese input methods type full-width digits: they must not dodge duplicate detection."""
    first = post(api, {"mobile": "１３８００１３８０００"})
    assert first.status_code == 201, first.content
    assert Member.objects.get(pk=first.json()["id"]).mobile == "13800138000"
    assert_problem(post(api, {"mobile": "13800138000"}), 409, "duplicate_mobile")
    assert_problem(post(api, {"mobile": "13８00138000"}), 409, "duplicate_mobile")


# --- validation: 422 with per-field errors, nothing written ----------------------------------

LONG = "长" * 300


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"mobile"}, id="missing-mobile"),
        pytest.param({"name": "张三"}, {"mobile"}, id="missing-mobile-with-name"),
        pytest.param({"mobile": 13800138000}, {"mobile"}, id="mobile-as-number"),
        pytest.param({"mobile": None}, {"mobile"}, id="mobile-null"),
        pytest.param({"mobile": "13800138000", "tags": "a,b"}, {"tags"}, id="tags-as-string"),
        pytest.param({"mobile": "13800138000", "tags": [1, 2]}, {"tags.0"}, id="tags-as-numbers"),
        pytest.param({"mobile": "13800138000", "custom": ["x"]}, {"custom"}, id="custom-as-list"),
        pytest.param({"mobile": "13800138000", "consent": "yes"}, {"consent"}, id="consent-str"),
        pytest.param({"mobile": "13800138000", "consent": 1}, {"consent"}, id="consent-number"),
        pytest.param({"mobile": "13800138000", "consent": {"sns": True}}, {"consent.sns"}),
        pytest.param({"mobile": "13800138000", "nmae": "张三"}, {"nmae"}, id="misspelt-field"),
        pytest.param({"mobile": "13800138000", "name": LONG}, {"name"}, id="long-name"),
        pytest.param({"mobile": "13800138000", "address": LONG}, {"address"}, id="long-address"),
        pytest.param({"mobile": "1" * 30}, {"mobile"}, id="long-mobile"),
        pytest.param({"mobile": "13800138000", "store": "X" * 40}, {"store"}, id="long-store"),
        pytest.param({"mobile": "13800138000", "tags": ["t"] * 21}, {"tags"}, id="many-tags"),
        pytest.param({"mobile": "13800138000", "tags": ["长" * 31]}, {"tags"}, id="long-tag"),
        pytest.param({"mobile": "13800138000", "store": "NOPE"}, {"store"}, id="unknown-store"),
        pytest.param({"mobile": "12012345678"}, {"mobile"}, id="mobile-bad-prefix"),
        pytest.param({"mobile": "138001380001"}, {"mobile"}, id="mobile-12-digits"),
        pytest.param({"mobile": "1380013800"}, {"mobile"}, id="mobile-10-digits"),
        pytest.param({"mobile": "abcdefghijk"}, {"mobile"}, id="mobile-letters"),
        pytest.param({"mobile": "٣٨٠٠١٣٨٠٠٠١"}, {"mobile"}, id="mobile-arabic-digits"),
        pytest.param({"mobile": "13800138000", "id_number": "110105194912310021"}, {"id_number"}),
        pytest.param({"mobile": "13800138000", "id_number": "11010519491331002"}, {"id_number"}),
        pytest.param(
            {"mobile": "13800138000", "id_number": valid_id_number("11010519491331002")},
            {"id_number"},
            id="id-number-month-13",
        ),
        pytest.param(
            {"mobile": "13800138000", "id_number": valid_id_number("11010520991231002")},
            {"id_number"},
            id="id-number-born-in-the-future",
        ),
        pytest.param({"mobile": "13800138000", "birthday": "1990-02-30"}, {"birthday"}),
        pytest.param({"mobile": "13800138000", "birthday": "yesterday"}, {"birthday"}),
        pytest.param({"mobile": "13800138000", "birthday": "2999-01-01"}, {"birthday"}),
        pytest.param({"mobile": "13800138000", "birthday": "1850-01-01"}, {"birthday"}),
        pytest.param({"mobile": "13800138000", "gender": "X"}, {"gender"}, id="bad-gender"),
        pytest.param({"mobile": "13800138000", "email": "not-an-email"}, {"email"}),
        pytest.param({"mobile": "13800138000", "lunar_birthday": "13-01"}, {"lunar_birthday"}),
        pytest.param({"mobile": "13800138000", "income_band": "rich"}, {"income_band"}),
        pytest.param({"mobile": "13800138000", "referrer_code": "NOSUCH"}, {"referrer_code"}),
        pytest.param({"mobile": "13800138000", "custom": {"nope": 1}}, {"custom.nope"}),
        pytest.param({"mobile": "13800138000", "custom": {"size": "XXL"}}, {"custom.size"}),
        pytest.param({"mobile": "13800138000", "custom": {"shoe": "big"}}, {"custom.shoe"}),
        pytest.param({"mobile": "13800138000", "custom": {"shoe": True}}, {"custom.shoe"}),
        pytest.param({"mobile": "13800138000", "custom": {"shoe": 1e400}}, {"custom.shoe"}),
        pytest.param({"mobile": "13800138000", "custom": {"anniversary": "2020-13-01"}}, None),
        pytest.param({"mobile": "13800138000", "custom": {"colour": ["red"]}}, {"custom.colour"}),
        pytest.param({"mobile": "13800138000", "custom": {"colour": "红" * 201}}, None),
        pytest.param({"mobile": "13800138000", "name": "张\x00三"}, {"name"}, id="nul-in-name"),
        pytest.param({"mobile": "13800138000", "custom": {"colour": "\x00"}}, None, id="nul-cust"),
        pytest.param({"mobile": "13800138000", "tags": ["a\x00"]}, {"tags.0"}, id="nul-tag"),
        pytest.param({"mobile": "13800138000", "custom": {"\x00": 1}}, None, id="nul-key"),
        pytest.param(
            {"mobile": "", "store": "NOPE", "birthday": "2999-01-01", "custom": {"nope": 1}},
            {"mobile", "store", "birthday", "custom.nope"},
            id="every-error-listed",
        ),
    ],
)
def test_bad_input_is_422_and_writes_nothing(api, custom_fields, body, fields):
    before = writes()
    problem = assert_problem(post(api, body), 422, "validation_error")
    assert problem["errors"], problem
    for error in problem["errors"]:
        assert set(error) == {"field", "message"}
        assert error["message"]
    if fields is not None:
        assert fields <= error_fields(problem), problem
    else:
        assert any(f.startswith("custom") for f in error_fields(problem)), problem
    assert writes() == before


def test_huge_integer_in_a_number_custom_field_is_422(api, custom_fields):
    before = writes()
    raw = '{"mobile": "13800138000", "custom": {"shoe": ' + "9" * 400 + "}}"
    problem = assert_problem(post(api, raw), 422, "validation_error")
    assert "custom.shoe" in error_fields(problem)
    assert writes() == before


def test_required_custom_field(api, system):
    define_custom_field(system, "size", "尺码", CustomField.Kind.CHOICE, ["S", "M"], required=True)
    before = writes()
    problem = assert_problem(post(api, {"mobile": "13800138000"}), 422, "validation_error")
    assert "custom.size" in error_fields(problem)
    assert writes() == before
    assert post(api, {"mobile": "13800138000", "custom": {"size": "S"}}).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"mobile": ', id="truncated"),
        pytest.param("{'mobile': '13800138000'}", id="single-quotes"),
        pytest.param("not json", id="text"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param('{"mobile": "13800138000",}', id="trailing-comma"),
    ],
)
def test_malformed_json_is_422_and_writes_nothing(api, raw):
    before = writes()
    problem = assert_problem(post(api, raw), 422, "validation_error")
    assert error_fields(problem) == {"body"}
    assert "JSON" in problem["detail"]
    assert writes() == before


@pytest.mark.parametrize("raw", ["[]", '"13800138000"', "null", "42"])
def test_a_body_that_is_not_an_object_is_422(api, raw):
    before = writes()
    assert_problem(post(api, raw), 422, "validation_error")
    assert writes() == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32-le"])
def test_nul_is_refused_in_every_json_encoding(api, encoding):
    """The parser skips its NUL walk for UTF-8 bodies without the text \\u0000; a UTF-16 or
    UTF-32 body (json.loads reads those too) must still be walked."""
    raw = json.dumps({"mobile": "13800138000", "name": "张\x00三"}).encode(encoding)
    before = writes()
    problem = assert_problem(post(api, raw), 422, "validation_error")
    assert error_fields(problem) == {"name"}
    assert writes() == before


def test_nul_in_a_query_is_422(api):
    """PostgreSQL cannot store or compare text with NUL: refuse it instead of failing with 500."""
    post(api, {"mobile": "13800138000"})
    problem = assert_problem(api.get(URL, {"q": "张\x00"}), 422, "validation_error")
    assert "q" in error_fields(problem)
    assert_problem(api.get(URL, {"mobile": "\x00"}), 422, "validation_error")


# --- PATCH -----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, custom_fields):
    created = post(
        api,
        {
            "mobile": "13800138000",
            "name": "张三",
            "birthday": "1990-03-07",
            "store": "S1",
            "tags": ["商务"],
            "consent": {"sms": True, "email": True},
            "custom": {"size": "M", "colour": "红"},
        },
    ).json()
    response = patch(
        api, created["id"], {"name": "张三丰", "consent": {"sms": False}, "custom": {"size": "L"}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "张三丰"
    assert body["consent"] == {"sms": False, "wechat": False, "email": True}
    assert body["custom"] == {"size": "L", "colour": "红"}
    unchanged = {"mobile", "birthday", "store", "tags", "card_no", "referral_code", "gender"}
    assert {k: body[k] for k in unchanged} == {k: created[k] for k in unchanged}

    entry = AuditEntry.objects.filter(object_type="member", action="update").get()
    assert entry.changes == {
        "name": ["张三", "张三丰"],
        "consent_sms": [True, False],
        "custom": [{"size": "M", "colour": "红"}, {"size": "L", "colour": "红"}],
    }
    assert entry.channel == "api"
    assert entry.api_key is not None


def test_patch_masks_personal_fields_in_the_audit(api):
    created = post(api, {"mobile": "13800138000"}).json()
    response = patch(api, created["id"], {"mobile": "13900139000", "id_number": VALID_ID})
    assert response.status_code == 200
    assert response.json()["mobile"] == "139****9000"
    assert Member.objects.get(pk=created["id"]).mobile == "13900139000"
    entry = AuditEntry.objects.filter(object_type="member", action="update").get()
    assert entry.changes == {"mobile": ["***", "***"], "id_number": ["***", "***"]}
    text = json.dumps(entry.changes)
    assert "13800138000" not in text and "13900139000" not in text and VALID_ID not in text


def test_patch_with_nothing_new_writes_no_audit(api):
    created = post(api, {"mobile": "13800138000", "name": "张三"}).json()
    before = writes()
    response = patch(api, created["id"], {"name": "张三"})
    assert response.status_code == 200
    response = patch(api, created["id"], {})
    assert response.status_code == 200
    assert writes() == before


def test_patch_clears_and_replaces_tags_and_store(api):
    created = post(api, {"mobile": "13800138000", "store": "S1", "tags": ["a", "b"]}).json()
    body = patch(api, created["id"], {"tags": ["c"], "store": "S2"}).json()
    assert (body["tags"], body["store"]) == (["c"], "S2")
    body = patch(api, created["id"], {"tags": [], "store": None}).json()
    assert (body["tags"], body["store"]) == ([], None)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"mobile": "13900139000"}, 409, "duplicate_mobile", "mobile"),
        ({"mobile": "12345"}, 422, "validation_error", "mobile"),
        ({"mobile": None}, 422, "validation_error", "mobile"),
        ({"birthday": "2999-01-01"}, 422, "validation_error", "birthday"),
        ({"store": "NOPE"}, 422, "validation_error", "store"),
        ({"custom": {"nope": "x"}}, 422, "validation_error", "custom.nope"),
        ({"custom": "x"}, 422, "validation_error", "custom"),
        ({"name": "x" * 51}, 422, "validation_error", "name"),
        ({"id_number": "123"}, 422, "validation_error", "id_number"),
        ({"name": "ok", "email": "bad"}, 422, "validation_error", "email"),
    ],
)
def test_patch_rejections_write_nothing(api, body, status, code, field):
    created = post(api, {"mobile": "13800138000", "name": "张三", "store": "S1"}).json()
    post(api, {"mobile": "13900139000"})
    before = writes()
    problem = assert_problem(patch(api, created["id"], body), status, code)
    assert field in error_fields(problem)
    assert writes() == before
    assert api.get(f"{URL}/{created['id']}").json() == created


@pytest.mark.parametrize("raw", ["{", "42", '"name"', "[]", '{"consent": "no"}', '{"nmae": "x"}'])
def test_patch_with_a_malformed_body_is_422(api, raw):
    """A PATCH body must be an object of known fields; anything else is not a no-op 200."""
    created = post(api, {"mobile": "13800138000"}).json()
    before = writes()
    assert_problem(patch(api, created["id"], raw), 422, "validation_error")
    assert writes() == before
