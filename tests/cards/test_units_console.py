"""Agreement units in the console (/units/): list, add, edit, the unit's page, group enrolment
by paste and by file; the member page shows the unit; the register form keeps the rules."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from patron.cards.units import save_unit
from patron.members.models import AgreementUnit, Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from tests.sales.conftest import PROGRAM

pytestmark = pytest.mark.django_db


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def unit(system, program):
    return save_unit(
        system,
        "ALI",
        {"name": "阿里巴巴", "discount": {"rooms": 85}, "contact_mobile": "13700137000"},
    )[0]


@pytest.fixture
def console(hq) -> Client:
    return logged_in(hq)


class TestPages:
    def test_the_list_shows_units_with_member_counts(self, console, system, unit):
        register_member(system, {"mobile": "13900139000", "agreement_unit": "ALI"})
        page = console.get("/units/").content.decode()
        assert "阿里巴巴" in page
        assert 'data-members="1"' in page
        assert "13700137000" in page  # HQ sees personal data

    def test_a_masked_role_sees_the_contact_masked(self, marketer, unit):
        page = logged_in(marketer).get("/units/").content.decode()
        assert "137****7000" in page and "13700137000" not in page

    def test_add_and_edit(self, console, program):
        answer = console.post(
            "/units/add/",
            {
                "code": "TX",
                "name": "腾讯",
                "discount": "rooms=88, *=95",
                "valid_until": "2099-01-01",
                "is_active": "on",
            },
        )
        assert answer.status_code == 302, answer.content.decode()
        unit = AgreementUnit.objects.get(code="TX")
        assert unit.discount == {"*": 95, "rooms": 88}
        answer = console.post(
            "/units/TX/edit/", {"name": "腾讯科技", "discount": "rooms=80", "is_active": "on"}
        )
        assert answer.status_code == 302
        unit.refresh_from_db()
        assert (unit.name, unit.discount, unit.valid_until) == ("腾讯科技", {"rooms": 80}, None)

    @pytest.mark.parametrize(
        ("discount", "message"),
        [("rooms=120", "from 1 to 100"), ("spa=90", "Unknown category"), ("rooms 88", "pairs")],
    )
    def test_bad_discounts_are_form_errors(self, console, program, discount, message):
        answer = console.post("/units/add/", {"code": "TX", "name": "腾讯", "discount": discount})
        assert answer.status_code == 200
        assert message in answer.content.decode()
        assert not AgreementUnit.objects.exists()

    def test_cashiers_and_marketers_may_not_add(self, cashier, marketer, program):
        assert logged_in(cashier).get("/units/").status_code == 403
        answer = logged_in(marketer).post("/units/add/", {"code": "TX", "name": "腾讯"})
        assert answer.status_code == 403
        assert not AgreementUnit.objects.exists()

    def test_an_unknown_unit_is_404(self, console, program):
        assert console.get("/units/NOPE/").status_code == 404


class TestGroupEnrolment:
    def test_paste_registers_moves_and_reports_bad_lines(self, console, system, unit):
        register_member(system, {"mobile": "13800138001", "name": "老会员"})
        text = "13900139000, 张三\n13800138001\n\n12345 坏号码\n13900139002\t王五"
        answer = console.post("/units/ALI/enrol/", {"people": text})
        page = answer.content.decode()
        assert answer.status_code == 200
        assert 'id="group-errors"' in page and 'data-line="4"' in page
        assert Member.objects.filter(agreement_unit=unit).count() == 3
        assert Member.objects.get(mobile="13900139002").name == "王五"
        again = console.post("/units/ALI/enrol/", {"people": text}).content.decode()
        assert "3 already here" in again
        assert Member.objects.count() == 3

    def test_a_csv_file(self, console, unit):
        data = "手机号,姓名\n13900139000,张三\n13900139001,李四\n".encode()
        upload = SimpleUploadedFile("people.csv", data, content_type="text/csv")
        console.post("/units/ALI/enrol/", {"file": upload})
        assert Member.objects.filter(agreement_unit=unit).count() == 2

    def test_an_xlsx_file(self, console, unit):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["mobile", "name"])
        sheet.append(["13900139000", "张三"])
        stream = io.BytesIO()
        book.save(stream)
        upload = SimpleUploadedFile("people.xlsx", stream.getvalue())
        console.post("/units/ALI/enrol/", {"file": upload})
        assert Member.objects.get(mobile="13900139000").agreement_unit_id == unit.pk

    def test_a_file_without_a_mobile_column(self, console, unit):
        upload = SimpleUploadedFile("people.csv", "姓名\n张三\n".encode())
        page = console.post("/units/ALI/enrol/", {"file": upload}).content.decode()
        assert "mobile" in page
        assert not Member.objects.exists()

    def test_nothing_given(self, console, unit):
        page = console.post("/units/ALI/enrol/", {"people": ""}).content.decode()
        assert "Paste some people" in page


class TestMemberPageAndForm:
    def test_the_member_page_shows_the_unit(self, console, system, unit):
        member = register_member(system, {"mobile": "13900139000", "agreement_unit": "ALI"})
        page = console.get(f"/members/{member.pk}/").content.decode()
        assert 'id="member-unit"' in page and "阿里巴巴" in page

    def test_the_register_form_keeps_the_age_rule(self, console, system, stores):
        apply_program(system, {**PROGRAM, "recruitment": {"min_age": 18}})
        answer = console.post("/members/new/", {"mobile": "13900139000", "gender": "U"})
        assert answer.status_code == 200
        assert "members must be at least 18" in answer.content.decode()
        assert not Member.objects.exists()

    def test_the_register_form_asks_for_qualifying_sales(self, console, hq, system, stores):
        from tests.cards.test_recruitment_rules import sell

        apply_program(system, {**PROGRAM, "recruitment": {"min_purchase": 20000}})
        assert 'name="qualifying_sales"' in console.get("/members/new/").content.decode()
        small = sell(system, 100)
        answer = console.post(
            "/members/new/",
            {"mobile": "13900139000", "gender": "U", "qualifying_sales": str(small.pk)},
        )
        assert "¥200.00" in answer.content.decode()
        big = sell(system, 20000)
        answer = console.post(
            "/members/new/",
            {"mobile": "13900139000", "gender": "U", "qualifying_sales": f"{big.pk}"},
        )
        assert answer.status_code == 302
        big.refresh_from_db()
        assert big.member.mobile == "13900139000"

    def test_the_register_form_offers_the_units(self, console, unit):
        page = console.get("/members/new/").content.decode()
        assert 'name="agreement_unit"' in page and "阿里巴巴" in page
        answer = console.post(
            "/members/new/", {"mobile": "13900139000", "gender": "U", "agreement_unit": "ALI"}
        )
        assert answer.status_code == 302
        assert Member.objects.get().agreement_unit_id == unit.pk
