"""The promotion editor: every console change is a program revision, as `program apply` makes.

Create, edit, pause, resume and end each record a ProgramRevision and an audit entry, the
export shows the change, and applying the export afterwards changes nothing. Refused input is
a form error on its field and writes nothing. The preview's figures are worked by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from patron.program.models import ProgramRevision
from patron.program.services import apply_program, export_program
from patron.promotions import selectors
from patron.promotions.models import CouponTemplate, Promotion
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from tests.conftest import staff_actor

pytestmark = [pytest.mark.django_db]

# 满200减30 as a marketer fills the form in (yuan, not fen).
SPEND_200_SAVE_30 = {
    "name": "满200减30",
    "code": "M200",
    "kind": "automatic",
    "benefit_type": "fixed",
    "amount": "30",
    "min_amount": "200",
    "stacking": "stackable",
    "priority": "20",
}


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def marketer_client(applied, marketer) -> Client:
    return logged_in(marketer)


def exported(system: Actor, section: str, code: str) -> dict[str, Any] | None:
    rows = export_program(system)[section]
    return next((row for row in rows if row["code"] == code), None)


def assert_export_round_trips(system: Actor) -> None:
    """Applying the export changes nothing: no change planned, no revision recorded."""
    revisions = ProgramRevision.objects.count()
    assert apply_program(system, export_program(system)) == []
    assert ProgramRevision.objects.count() == revisions


def example(lines: list[tuple[str, str, int, str]], **more: str) -> dict[str, str]:
    data = {"example-store": "S1", "example-at": "2027-03-03T12:00", **more}
    for index, (sku, category, quantity, price) in enumerate(lines):
        data[f"example-sku_{index}"] = sku
        data[f"example-category_{index}"] = category
        data[f"example-quantity_{index}"] = str(quantity)
        data[f"example-price_{index}"] = price
    return data


# --- every change is a revision --------------------------------------------------------------


def test_creating_a_promotion_records_a_revision_an_audit_entry_and_the_export_shows_it(
    applied, marketer, marketer_client
):
    before = ProgramRevision.objects.count()
    response = marketer_client.post(
        "/promotions/promotions/new/",
        {**SPEND_200_SAVE_30, "weekdays": ["6", "7"], "stores": ["S1"]},
    )
    assert response.status_code == 302
    assert ProgramRevision.objects.count() == before + 1
    revision = ProgramRevision.objects.first()
    assert revision.channel == "console" and revision.applied_by == marketer.staff.user
    assert revision.changes == ["+ promotions M200 满200减30"]
    assert AuditEntry.objects.filter(object_type="programrevision", object_id=revision.pk).exists()
    assert exported(applied, "promotions", "M200") == {
        "code": "M200",
        "name": "满200减30",
        "kind": "automatic",
        "condition": {"min_amount": 20000, "weekdays": [6, 7], "stores": ["S1"]},
        "benefit": {"type": "fixed", "value": 3000},
        "stacking": "stackable",
        "priority": 20,
    }
    assert_export_round_trips(applied)


def test_editing_a_promotion_is_a_revision_and_saving_it_unchanged_is_none(
    applied, marketer_client
):
    page = marketer_client.get("/promotions/promotions/tuesday/edit/")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["rate"] == "9" and form.initial["weekdays"] == ["2"]
    unchanged = {**form.initial, "priority": "10", "members_only": "on"}
    unchanged = {key: value for key, value in unchanged.items() if value not in (None, "", False)}
    revisions = ProgramRevision.objects.count()
    marketer_client.post("/promotions/promotions/tuesday/edit/", unchanged)
    assert ProgramRevision.objects.count() == revisions

    changed = {**unchanged, "rate": "8.8", "weekdays": ["2", "4"]}
    response = marketer_client.post("/promotions/promotions/tuesday/edit/", changed)
    assert response.status_code == 302
    assert ProgramRevision.objects.count() == revisions + 1
    row = exported(applied, "promotions", "tuesday")
    assert row["benefit"] == {"type": "percent", "value": 12}  # 8.8折 = 12 % off
    assert row["condition"] == {"weekdays": [2, 4]}
    assert_export_round_trips(applied)


def test_pause_resume_and_end_are_revisions_and_the_engine_follows(applied, marketer_client):
    def engine_codes() -> set[str]:
        return {p.code for p in selectors.engine_program(applied.merchant).promotions}

    revisions = ProgramRevision.objects.count()
    marketer_client.post("/promotions/promotions/tuesday/pause/")
    assert exported(applied, "promotions", "tuesday")["paused"] is True
    assert "tuesday" not in engine_codes()
    assert ProgramRevision.objects.first().changes == ["~ promotions tuesday (paused)"]
    assert_export_round_trips(applied)

    marketer_client.post("/promotions/promotions/tuesday/resume/")
    assert "paused" not in exported(applied, "promotions", "tuesday")
    assert "tuesday" in engine_codes()
    assert_export_round_trips(applied)

    marketer_client.post("/promotions/promotions/tuesday/end/")
    assert exported(applied, "promotions", "tuesday") is None
    assert "tuesday" not in engine_codes()
    assert not Promotion.objects.get(code="tuesday").is_active  # kept for history
    assert ProgramRevision.objects.count() == revisions + 3
    assert_export_round_trips(applied)


def test_a_paused_coupon_template_issues_no_coupon_and_round_trips(applied, marketer_client):
    marketer_client.post("/promotions/coupon_templates/room_night/pause/")
    assert exported(applied, "coupon_templates", "room_night")["paused"] is True
    assert not selectors.active_templates(applied.merchant).filter(code="room_night").exists()
    assert_export_round_trips(applied)
    marketer_client.post("/promotions/coupon_templates/room_night/resume/")
    assert selectors.active_templates(applied.merchant).filter(code="room_night").exists()


def test_creating_a_coupon_template_with_a_validity_window(applied, marketer_client):
    response = marketer_client.post(
        "/promotions/coupon_templates/new/",
        {
            "name": "周末8.8折券",
            "code": "weekend88",
            "benefit_type": "percent",
            "rate": "8.8",
            "max_discount": "50",
            "weekdays": ["6", "7"],
            "validity": "window",
            "valid_from": "2027-05-01T00:00",
            "valid_until": "2027-06-01T00:00",
            "stock": "500",
            "stacking": "exclusive",
            "priority": "100",
        },
    )
    assert response.status_code == 302
    assert exported(applied, "coupon_templates", "weekend88") == {
        "code": "weekend88",
        "name": "周末8.8折券",
        "benefit": {"type": "percent", "value": 12, "max_discount": 5000},
        "condition": {"weekdays": [6, 7]},
        "stacking": "exclusive",
        "priority": 100,
        "valid_from": "2027-05-01T00:00:00+08:00",
        "valid_until": "2027-06-01T00:00:00+08:00",
        "stock": 500,
    }
    assert CouponTemplate.objects.get(code="weekend88").is_active
    assert_export_round_trips(applied)


# --- refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"benefit_type": "percent", "rate": ""}, "rate"),  # the schema: value required
        ({"benefit_type": "percent", "rate": "12"}, "rate"),  # not a 折
        ({"amount": "-5"}, "amount"),
        ({"code": "tuesday"}, "code"),  # already in use
        ({"code": "有空格 的"}, "code"),
        ({"starts_at": "2027-05-01T00:00", "ends_at": "2027-04-01T00:00"}, "ends_at"),
        ({"benefit_type": "free_items", "buy": "2", "get": "1", "quantity": "1"}, "quantity"),
        ({"benefit_type": "gift"}, "gift_sku"),
        ({"benefit_type": "points_multiplier", "multiplier": "0"}, "multiplier"),
        ({"priority": "abc"}, "priority"),
    ],
)
def test_refused_input_is_a_form_error_on_its_field_and_writes_nothing(
    applied, marketer_client, changes, field
):
    revisions, promotions = ProgramRevision.objects.count(), Promotion.objects.count()
    audits = AuditEntry.objects.count()
    response = marketer_client.post("/promotions/promotions/new/", {**SPEND_200_SAVE_30, **changes})
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert 'class="field-error"' in response.content.decode()
    assert ProgramRevision.objects.count() == revisions
    assert Promotion.objects.count() == promotions
    assert AuditEntry.objects.count() == audits


# --- who may edit ----------------------------------------------------------------------------


def test_store_staff_read_the_promotions_but_may_not_change_them(applied, cashier, system, stores):
    from patron.tenancy.models import Role

    manager = staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])
    for actor in (cashier, manager):
        client = logged_in(actor)
        page = client.get("/promotions/")
        assert page.status_code == 200
        assert "/promotions/promotions/new/" not in page.content.decode()
        assert client.get("/promotions/promotions/new/").status_code == 403
        assert client.post("/promotions/promotions/tuesday/pause/").status_code == 403
        assert client.post("/promotions/promotions/tuesday/end/").status_code == 403
        assert client.post("/promotions/promotions/preview/", SPEND_200_SAVE_30).status_code == 403
    assert exported(applied, "promotions", "tuesday") is not None


# --- the preview -----------------------------------------------------------------------------


def preview(client: Client, form: dict[str, str], lines, section="promotions", **more):
    response = client.post(f"/promotions/{section}/preview/", {**form, **example(lines, **more)})
    assert response.status_code == 200
    return response.context["result"], response.content.decode()


def test_preview_of_spend_200_save_30_on_a_250_yuan_basket(applied, marketer_client):
    revisions = ProgramRevision.objects.count()
    lines = [("DISH-1", "dishes", 2, "80"), ("DRINK-1", "drinks", 3, "30")]  # 160 + 90 = 250
    result, page = preview(marketer_client, SPEND_200_SAVE_30, lines)
    assert (result.before.total, result.after.total) == (25000, 22000)
    assert result.draft_applied and result.draft_amount == 3000
    assert "¥250.00" in page and "¥220.00" in page
    assert not Promotion.objects.filter(code="M200").exists()
    assert ProgramRevision.objects.count() == revisions  # nothing written


def test_preview_says_why_spend_200_save_30_does_not_apply_to_150_yuan(applied, marketer_client):
    result, page = preview(marketer_client, SPEND_200_SAVE_30, [("DISH-1", "dishes", 1, "150")])
    assert not result.draft_applied and result.after.total == 15000
    assert result.reasons == ["Spend at least ¥200.00; the example has ¥150.00."]
    assert "Does not apply" in page


def test_preview_of_8_8_zhe_on_the_rooms_only(applied, marketer_client):
    draft = {
        **SPEND_200_SAVE_30,
        "benefit_type": "percent",
        "rate": "8.8",
        "benefit_categories": ["rooms"],
        "min_amount": "",
    }
    lines = [("ROOM-STD", "rooms", 1, "320"), ("DISH-1", "dishes", 1, "50")]
    result, _page = preview(marketer_client, draft, lines)
    # 12 % off the ¥320 room: ¥38.40; the dish is outside the scope.
    assert result.draft_amount == 3840
    assert (result.before.total, result.after.total) == (37000, 33160)


def test_preview_names_the_unmet_weekday_and_members_only(applied, marketer_client):
    # 2027-03-03 is a Wednesday; the draft is for weekends.
    lines = [("DISH-1", "dishes", 3, "100")]
    weekend = {**SPEND_200_SAVE_30, "weekdays": ["6", "7"]}
    result, _page = preview(marketer_client, weekend, lines)
    assert result.reasons == ["Only on Sat、Sun; the example is on Wed."]
    members = {**SPEND_200_SAVE_30, "members_only": "on"}
    result, _page = preview(marketer_client, members, lines)
    assert result.reasons == ["Members only: the example customer is not a member."]
    result, _page = preview(marketer_client, members, lines, **{"example-member": "gold"})
    assert result.draft_applied


def test_preview_of_an_edit_replaces_the_current_version(applied, marketer_client):
    # tuesday: members only, 10 % off on Tuesdays; 2027-03-02 is a Tuesday.
    page = marketer_client.get("/promotions/promotions/tuesday/edit/")
    form = {k: v for k, v in page.context["form"].initial.items() if v not in (None, "", False)}
    form.update({"members_only": "on", "rate": "8"})  # now 20 % off
    response = marketer_client.post(
        "/promotions/promotions/preview/?editing=tuesday",
        {
            **form,
            **example(
                [("DISH-1", "dishes", 1, "100")],
                **{"example-member": "normal", "example-at": "2027-03-02T12:00"},
            ),
        },
    )
    result = response.context["result"]
    assert (result.before.total, result.after.total) == (9000, 8000)
    assert [line.amount for line in result.applied] == [2000]  # the old version is gone


def test_preview_of_a_coupon_template(applied, marketer_client):
    template = {
        "name": "满100减20券",
        "code": "C100",
        "benefit_type": "fixed",
        "amount": "20",
        "min_amount": "100",
        "validity": "days",
        "valid_days": "30",
        "stacking": "stackable",
        "priority": "100",
    }
    result, _page = preview(
        marketer_client, template, [("DISH-1", "dishes", 1, "120")], section="coupon_templates"
    )
    assert result.draft_applied and (result.before.total, result.after.total) == (12000, 10000)


def test_preview_of_an_incomplete_draft_lists_what_to_fix(applied, marketer_client):
    draft = {**SPEND_200_SAVE_30, "amount": ""}
    result, page = preview(marketer_client, draft, [("DISH-1", "dishes", 1, "100")])
    assert result.errors == ["Amount (yuan): Required."] and result.before is None
    assert "complete the form" in page


# --- the revision history --------------------------------------------------------------------


def test_the_revision_history_shows_the_diff_of_a_console_change(applied, marketer_client):
    marketer_client.post("/promotions/promotions/tuesday/pause/")
    page = marketer_client.get("/program/revisions/").content.decode()
    first = page.index('data-revision="')
    shown = page[first : first + 4000]
    assert "tuesday" in shown
    assert re.search(r'class="diff-add">\+\s+paused: true', shown)


def test_the_revision_history_names_the_changed_fields(applied, marketer_client):
    form = marketer_client.get("/promotions/promotions/tuesday/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, "", False)}
    marketer_client.post(
        "/promotions/promotions/tuesday/edit/",
        {**data, "members_only": "on", "rate": "8.8", "priority": "5"},
    )
    page = marketer_client.get("/program/revisions/").content.decode()
    first = page[page.index('data-revision="') :]
    first = first[: first.index("</ul>")]
    assert "changed: benefit、priority" in first
    assert "{'type'" not in first  # values are in the diff, not in the words


def last_tuesday_noon() -> dt.datetime:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    tuesday = today - dt.timedelta(days=(today.isoweekday() - 2) % 7 or 7)
    return dt.datetime.combine(tuesday, dt.time(12), ZoneInfo("Asia/Shanghai"))


def test_a_paused_promotion_is_not_listed_by_the_api_nor_applied_to_a_quote(
    applied, member, marketer_client, api
):
    body = {
        "member": str(member.pk),
        "store": "S1",
        "occurred_at": last_tuesday_noon().isoformat(),  # 会员日: 10 % off for members
        "lines": [{"sku": "DISH-1", "category": "dishes", "quantity": 1, "unit_price": 10000}],
    }
    assert (
        api.post("/api/v1/sales/quote", body, content_type="application/json").json()["total"]
        == 9000
    )
    marketer_client.post("/promotions/promotions/tuesday/pause/")
    listed = [p["code"] for p in api.get("/api/v1/promotions").json()]
    assert "tuesday" not in listed and "SPRING10" in listed
    quoted = api.post("/api/v1/sales/quote", body, content_type="application/json").json()
    assert quoted["total"] == 10000 and quoted["applied"] == []


def test_the_example_basket_starts_from_recent_sales(applied, marketer_client, api):
    sale = {
        "store": "S1",
        "lines": [
            {"sku": "ROOM-STD", "category": "rooms", "quantity": 1, "unit_price": 32000},
            {"sku": "DISH-1", "category": "dishes", "quantity": 2, "unit_price": 6800},
        ],
    }
    assert api.post("/api/v1/sales", sale, content_type="application/json").status_code == 201
    example = marketer_client.get("/promotions/promotions/new/").context["example"]
    shown = {(example.initial[f"sku_{i}"], example.initial[f"price_{i}"]) for i in range(2)}
    assert shown == {("ROOM-STD", "320.00"), ("DISH-1", "68.00")}


def test_without_sales_the_example_basket_has_a_line_per_category(applied, marketer_client):
    example = marketer_client.get("/promotions/promotions/new/").context["example"]
    assert [example.initial[f"category_{i}"] for i in range(3)] == ["rooms", "dishes", "drinks"]


def test_a_coupon_template_without_validity_says_so_on_the_days(applied, marketer_client):
    revisions = ProgramRevision.objects.count()
    response = marketer_client.post(
        "/promotions/coupon_templates/new/",
        {
            "name": "券",
            "code": "c1",
            "benefit_type": "fixed",
            "amount": "10",
            "validity": "days",
            "stacking": "stackable",
            "priority": "100",
        },  # fmt: skip
    )
    assert response.context["form"].errors["valid_days"] == [
        "Say how long coupons are valid: a number of days, or two dates."
    ]
    assert ProgramRevision.objects.count() == revisions
