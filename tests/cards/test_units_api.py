"""Agreement units (协议单位) through the API: create and change, list, group enrolment, and
registering a member under a unit (docs/enrolment.md)."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.members.models import AgreementUnit, Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.models import AuditEntry
from tests.sales.conftest import PROGRAM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

UNIT = {
    "name": "阿里巴巴",
    "discount": {"rooms": 85, "*": 95},
    "contact_name": "王经理",
    "contact_mobile": "13700137000",
    "valid_until": "2099-12-31",
}


def put(client: Client, path: str, body: dict):
    return client.put(path, body, content_type="application/json")


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


@pytest.fixture
def program(system, stores):
    apply_program(system, {**PROGRAM, "recruitment": {"min_purchase": 20000, "min_age": 18}})


@pytest.fixture
def unit(api, program):
    answer = put(api, "/api/v1/units/ALI", UNIT)
    assert answer.status_code == 201, answer.content
    return AgreementUnit.objects.get(code="ALI")


class TestUnitCrud:
    def test_create_then_update_then_the_same_again(self, api, unit):
        assert unit.discount == {"*": 95, "rooms": 85}
        answer = put(api, "/api/v1/units/ALI", {"note": "年框协议", "discount": {"rooms": 80}})
        assert answer.status_code == 200
        body = answer.json()
        assert (body["name"], body["note"], body["discount"]) == (
            "阿里巴巴",
            "年框协议",
            {"rooms": 80},
        )
        assert body["contact_mobile"] == "137****7000"  # API answers are masked
        assert body["current"] is True
        audits = AuditEntry.objects.filter(object_type="agreementunit").count()
        assert put(api, "/api/v1/units/ALI", {"note": "年框协议"}).status_code == 200
        assert AuditEntry.objects.filter(object_type="agreementunit").count() == audits

    def test_list(self, api, unit):
        body = api.get("/api/v1/units").json()
        assert body["count"] == 1
        assert body["items"][0]["code"] == "ALI"
        assert body["items"][0]["member_count"] == 0

    def test_another_merchant_sees_none_of_it(self, other_api, unit):
        assert other_api.get("/api/v1/units/ALI").status_code == 404
        assert other_api.get("/api/v1/units").json()["count"] == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "X", "discount": {"spa": 90}}, "discount.spa"),
            ({"name": "X", "contact_mobile": "12345"}, "contact_mobile"),
            ({"name": "X", "valid_until": "1800-01-01"}, "valid_until"),
        ],
    )
    def test_bad_input_is_a_field_error_and_nothing_is_written(self, api, program, body, field):
        answer = put(api, "/api/v1/units/NEW", body)
        assert answer.status_code == 422, answer.content
        assert field in [e["field"] for e in answer.json()["errors"]]
        assert not AgreementUnit.objects.filter(code="NEW").exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "X", "discount": {"rooms": 0}},
            {"name": "X", "discount": {"rooms": 101}},
            {"name": "X", "discount": {"rooms": "abc"}},
            {"name": "X", "is_active": None},
        ],
    )
    def test_out_of_range_is_refused(self, api, program, body):
        assert put(api, "/api/v1/units/NEW", body).status_code == 422
        assert not AgreementUnit.objects.filter(code="NEW").exists()

    def test_a_new_unit_without_a_name_takes_its_code(self, api, program):
        assert put(api, "/api/v1/units/NEW", {"discount": {"*": 90}}).json()["name"] == "NEW"
        assert put(api, "/api/v1/units/NEW", {"name": " "}).json()["name"] == "NEW"

    def test_a_bad_code(self, api, program):
        answer = put(api, "/api/v1/units/-bad!", {"name": "X"})
        assert answer.status_code == 422
        assert put(api, "/api/v1/units/add", {"name": "X"}).status_code == 422  # a console path

    def test_a_misspelt_field(self, api, program):
        assert put(api, "/api/v1/units/NEW", {"name": "X", "discont": {}}).status_code == 422


class TestRegisteringUnderAUnit:
    def test_the_member_is_under_the_unit_and_shows_it(self, api, unit):
        # Joining under an agreement unit is the qualification: no purchase, no birthday.
        answer = post(api, "/api/v1/members", {"mobile": "13900139000", "agreement_unit": "ALI"})
        assert answer.status_code == 201, answer.content
        assert answer.json()["agreement_unit"] == {"code": "ALI", "name": "阿里巴巴"}
        member = Member.objects.get(pk=answer.json()["id"])
        assert member.agreement_unit_id == unit.pk
        shown = api.get(f"/api/v1/members/{member.pk}").json()
        assert shown["agreement_unit"]["code"] == "ALI"
        listed = api.get("/api/v1/members").json()["items"][0]
        assert listed["agreement_unit"]["code"] == "ALI"

    def test_an_unknown_unit_is_a_field_error(self, api, unit):
        answer = post(api, "/api/v1/members", {"mobile": "13900139000", "agreement_unit": "NOPE"})
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["agreement_unit"]
        assert not Member.objects.exists()

    def test_an_inactive_unit_is_refused(self, api, unit):
        put(api, "/api/v1/units/ALI", {"is_active": False})
        answer = post(api, "/api/v1/members", {"mobile": "13900139000", "agreement_unit": "ALI"})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "agreement_unit"


class TestGroupEnrolment:
    def test_new_moved_unchanged_and_errors_row_by_row(self, api, system, unit):
        put(api, "/api/v1/units/OTHER", {"name": "别家单位"})
        existing = register_member(
            system, {"mobile": "13800138001", "agreement_unit": "OTHER", "name": "老会员"}
        )
        people = [
            {"mobile": "13900139000", "name": "张三"},
            {"mobile": "13800138001"},
            {"mobile": "12345", "name": "坏号码"},
            {"mobile": "139 0013 9000", "name": "重复"},
        ]
        answer = post(api, "/api/v1/units/ALI/members", {"members": people})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert (body["registered"], body["moved"], body["unchanged"], body["errors"]) == (
            1,
            1,
            0,
            2,
        )
        assert [row["outcome"] for row in body["rows"]] == [
            "registered",
            "moved",
            "error",
            "error",
        ]
        existing.refresh_from_db()
        assert existing.agreement_unit_id == unit.pk
        assert Member.objects.get(mobile="13900139000").name == "张三"
        again = post(api, "/api/v1/units/ALI/members", {"members": people[:2]}).json()
        assert (again["registered"], again["moved"], again["unchanged"]) == (0, 0, 2)
        assert Member.objects.filter(agreement_unit=unit).count() == 2
        assert api.get("/api/v1/units/ALI").json()["member_count"] == 2

    def test_an_unknown_unit_is_404(self, api, program):
        answer = post(api, "/api/v1/units/NOPE/members", {"members": [{"mobile": "13900139000"}]})
        assert answer.status_code == 404

    def test_an_expired_unit_takes_nobody(self, api, unit):
        put(api, "/api/v1/units/ALI", {"valid_until": "2020-01-01"})
        answer = post(api, "/api/v1/units/ALI/members", {"members": [{"mobile": "13900139000"}]})
        assert answer.status_code == 422
        assert answer.json()["code"] == "agreement_unit_inactive"
        assert not Member.objects.exists()
