"""A store manager runs their store's own promotions and coupon templates from the console
editor, within the limits HQ sets (F-41): the owner is their store, an automatic promotion
applies there only, a benefit beyond the limits is a form error, HQ's rows are read-only,
another store's are not shown, and a tampered form or URL is refused with nothing written.
HQ sees and changes every one, with an owner column and filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.program.models import ProgramRevision
from patron.program.services import apply_program, export_program
from patron.promotions.models import CouponTemplate, Promotion
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.promotions.test_editor import example

pytestmark = [pytest.mark.django_db]

LIMITS = {
    "allowed": True,
    "max_percent_off": 20,
    "max_amount_off": 5000,
    "max_live": 3,
}
# 满200减30 at 西湖店, as its manager fills the form in (yuan).
OWN = {
    "name": "西湖店满200减30",
    "code": "S1M200",
    "kind": "automatic",
    "owner": "S1",
    "benefit_type": "fixed",
    "amount": "30",
    "min_amount": "200",
    "stacking": "stackable",
    "priority": "20",
}


def logged_in(actor: Actor) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def limited(applied: Actor) -> Actor:
    apply_program(applied, {"store_activities": LIMITS})
    apply_program(
        applied,
        {
            "promotions": [
                *export_program(applied)["promotions"],
                {
                    "code": "s2own",
                    "name": "滨江店自营",
                    "owner": "S2",
                    "kind": "automatic",
                    "condition": {"stores": ["S2"]},
                    "benefit": {"type": "percent", "value": 5},
                },
            ]
        },
    )
    return applied


@pytest.fixture
def manager(limited, stores) -> Actor:
    return staff_actor(limited, "manager1", Role.STORE_MANAGER, stores["S1"])


@pytest.fixture
def manager_client(manager) -> Client:
    return logged_in(manager)


def exported(system: Actor, section: str, code: str) -> dict[str, Any] | None:
    return next((r for r in export_program(system)[section] if r["code"] == code), None)


def test_a_store_manager_creates_their_own_promotion_applying_at_their_store(
    limited, manager, manager_client
):
    revisions = ProgramRevision.objects.count()
    response = manager_client.post("/promotions/promotions/new/", OWN)
    assert response.status_code == 302, response.context["form"].errors
    assert exported(limited, "promotions", "S1M200") == {
        "code": "S1M200",
        "name": "西湖店满200减30",
        "owner": "S1",
        "kind": "automatic",
        "condition": {"min_amount": 20000, "stores": ["S1"]},  # forced: their store only
        "benefit": {"type": "fixed", "value": 3000},
        "stacking": "stackable",
        "priority": 20,
    }
    revision = ProgramRevision.objects.first()
    assert ProgramRevision.objects.count() == revisions + 1
    assert revision.applied_by == manager.staff.user
    assert Promotion.objects.get(code="S1M200").owner_store.code == "S1"


def test_a_coupon_template_of_their_own(limited, manager_client):
    response = manager_client.post(
        "/promotions/coupon_templates/new/",
        {
            "name": "西湖店九折券",
            "code": "S1CUP",
            "owner": "S1",
            "benefit_type": "percent",
            "rate": "9",
            "max_discount": "20",
            "validity": "days",
            "valid_days": "30",
            "stacking": "stackable",
            "priority": "100",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert CouponTemplate.objects.get(code="S1CUP").owner_store.code == "S1"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"benefit_type": "percent", "rate": "7.5", "amount": ""}, "rate"),  # 25 % > 20 %
        ({"amount": "60"}, "amount"),  # ¥60 > ¥50
        ({"benefit_type": "points_multiplier", "multiplier": "2"}, "benefit_type"),
        ({"stores": ["S2"]}, "stores"),  # not one of their choices
    ],
)
def test_beyond_the_limits_is_a_form_error_and_nothing_is_written(
    limited, manager_client, changes, field
):
    revisions = ProgramRevision.objects.count()
    response = manager_client.post("/promotions/promotions/new/", {**OWN, **changes})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert ProgramRevision.objects.count() == revisions
    assert not Promotion.objects.filter(code="S1M200").exists()


def test_a_tampered_owner_is_refused_and_nothing_is_written(limited, manager_client):
    revisions = ProgramRevision.objects.count()
    for owner in ("S2", ""):
        response = manager_client.post("/promotions/promotions/new/", {**OWN, "owner": owner})
        assert response.status_code == 200
        assert "owner" in response.context["form"].errors
    assert ProgramRevision.objects.count() == revisions
    assert not Promotion.objects.filter(code="S1M200").exists()


def test_hq_and_other_stores_rows_are_refused_by_url(limited, manager_client):
    before = export_program(limited)
    for url in (
        "/promotions/promotions/tuesday/edit/",  # HQ's
        "/promotions/promotions/s2own/edit/",  # 滨江店's
    ):
        assert manager_client.get(url).status_code == 403
    for action in ("pause", "end"):
        for code in ("tuesday", "s2own"):
            response = manager_client.post(f"/promotions/promotions/{code}/{action}/")
            assert response.status_code == 403
    assert manager_client.post("/promotions/promotions/s2own/edit/", OWN).status_code == 403
    assert export_program(limited) == before


def test_they_pause_and_end_their_own(limited, manager_client):
    manager_client.post("/promotions/promotions/new/", OWN)
    manager_client.post("/promotions/promotions/S1M200/pause/")
    assert exported(limited, "promotions", "S1M200")["paused"] is True
    manager_client.post("/promotions/promotions/S1M200/end/")
    assert exported(limited, "promotions", "S1M200") is None


def test_max_live_counts_their_store_s_activities(limited, manager_client):
    for number in range(3):
        response = manager_client.post(
            "/promotions/promotions/new/", {**OWN, "code": f"S1P{number}"}
        )
        assert response.status_code == 302
    response = manager_client.post("/promotions/promotions/new/", {**OWN, "code": "S1P3"})
    assert response.status_code == 200
    assert "3" in str(response.context["form"].non_field_errors())
    assert not Promotion.objects.filter(code="S1P3").exists()


def test_without_hq_switching_it_on_a_store_manager_creates_nothing(applied, stores):
    client = logged_in(staff_actor(applied, "manager2", Role.STORE_MANAGER, stores["S1"]))
    assert client.get("/promotions/promotions/new/").status_code == 403
    assert client.post("/promotions/promotions/new/", OWN).status_code == 403
    assert not Promotion.objects.filter(code="S1M200").exists()
    page = client.get("/promotions/")
    assert "/promotions/promotions/new/" not in page.content.decode()


def test_the_overview_shows_hq_read_only_and_hides_other_stores(limited, manager_client):
    manager_client.post("/promotions/promotions/new/", OWN)
    page = manager_client.get("/promotions/")
    shown = {row.promotion.code: row.mine for row in page.context["promotions"]}
    assert shown["S1M200"] is True
    assert shown["tuesday"] is False
    assert "s2own" not in shown
    html = page.content.decode()
    assert "/promotions/promotions/S1M200/edit/" in html
    assert "/promotions/promotions/tuesday/edit/" not in html
    assert "滨江店自营" not in html


def test_hq_sees_and_changes_every_one_with_an_owner_filter(limited, hq):
    client = logged_in(hq)
    page = client.get("/promotions/")
    codes = {row.promotion.code for row in page.context["promotions"]}
    assert {"tuesday", "s2own"} <= codes
    assert all(row.mine for row in page.context["promotions"])
    assert "滨江店" in page.content.decode()
    only_s2 = client.get("/promotions/?owner=S2")
    assert [row.promotion.code for row in only_s2.context["promotions"]] == ["s2own"]
    only_hq = client.get("/promotions/?owner=hq")
    assert "s2own" not in {row.promotion.code for row in only_hq.context["promotions"]}
    # HQ is not held to the stores' limits: 30 % off for 滨江店.
    edit = client.get("/promotions/promotions/s2own/edit/")
    data = {k: v for k, v in edit.context["form"].initial.items() if v not in (None, "", False)}
    response = client.post("/promotions/promotions/s2own/edit/", {**data, "rate": "7"})
    assert response.status_code == 302
    assert exported(limited, "promotions", "s2own")["benefit"]["value"] == 30
    assert exported(limited, "promotions", "s2own")["owner"] == "S2"


def test_the_preview_refuses_what_saving_would_refuse(limited, manager_client):
    """A store manager's draft beyond HQ's limits shows the refusal, not a discount."""
    lines = [("DISH-1", "dishes", 3, "100")]
    beyond = {**OWN, "amount": "80"}  # HQ allows at most ¥50 off
    response = manager_client.post("/promotions/promotions/preview/", {**beyond, **example(lines)})
    result = response.context["result"]
    assert result.after is None and not result.draft_applied
    assert any("¥50.00" in error for error in result.errors), result.errors
    within = manager_client.post("/promotions/promotions/preview/", {**OWN, **example(lines)})
    assert within.context["result"].draft_amount == 3000
