"""Issuing, consuming, returning and withdrawing coupons; setting a member's tier."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patron.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from patron.members.models import Member, MemberStatus
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions import selectors, services
from patron.promotions.codes import CODE_ALPHABET, display_code, normalize_code
from patron.promotions.models import Coupon, CouponStatus, CouponTemplate
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_merchant
from tests.conftest import staff_actor
from tests.promotions.conftest import program

pytestmark = [pytest.mark.postgres]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def template_row(code: str, **fields) -> dict:
    return {"code": code, "name": code, "benefit": {"type": "fixed", "value": 500}, **fields}


def set_templates(actor: Actor, *templates: dict) -> None:
    apply_program(actor, {"coupon_templates": list(templates)})


# --- issuing ---------------------------------------------------------------------------------


def test_valid_days_run_to_the_merchant_midnight(applied, member):
    # 23:30 on 1 March in Shanghai: 90 whole days after today, ending at midnight.
    issued_at = dt.datetime(2027, 3, 1, 23, 30, tzinfo=SHANGHAI)
    with mock.patch("django.utils.timezone.now", return_value=issued_at):
        coupon = services.issue_coupon(applied, member, "room_night")
    assert coupon.valid_from == issued_at
    assert coupon.valid_until == dt.datetime(2027, 5, 31, tzinfo=SHANGHAI)
    assert coupon.status == CouponStatus.AVAILABLE and coupon.member == member
    assert coupon.issued_at == issued_at and coupon.channel == "cli"


def test_a_fixed_window_is_the_template_window(applied, member):
    coupon = services.issue_coupon(applied, member, "cny")
    template = CouponTemplate.objects.get(code="cny")
    assert (coupon.valid_from, coupon.valid_until) == (template.valid_from, template.valid_until)
    assert selectors.shown_status(coupon) == "available"


def test_a_window_that_has_ended_issues_nothing(applied, member):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    set_templates(
        applied,
        template_row(
            "old", valid_from=str(yesterday - dt.timedelta(days=9)), valid_until=str(yesterday)
        ),
    )
    with pytest.raises(Conflict) as caught:
        services.issue_coupon(applied, member, "old")
    assert caught.value.code == "coupon_template_expired"
    assert CouponTemplate.objects.get(code="old").issued_count == 0


def test_codes_are_unguessable_unique_and_unambiguous(applied, member):
    set_templates(applied, template_row("many", valid_days=7))
    codes = {services.issue_coupon(applied, member, "many").code for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{12}}", code) for code in codes)
    # 200 codes of 60 random bits: every character of the alphabet shows up somewhere.
    assert set("".join(codes)) == set(CODE_ALPHABET)


def test_a_code_collision_draws_again(applied, member):
    first = services.issue_coupon(applied, member, "room_night")
    draws = iter([first.code, "ABCDEFGHJKMN"])
    with mock.patch("patron.promotions.services.new_coupon_code", lambda: next(draws)):
        second = services.issue_coupon(applied, member, "room_night")
    assert second.code == "ABCDEFGHJKMN"


def test_codes_are_read_leniently_and_shown_grouped():
    assert normalize_code(" abcd-efgh-jkmo ") == "ABCDEFGHJKM0"
    assert normalize_code("il") == "11"
    assert display_code("7KQ2M9XRT4HD") == "7KQ2-M9XR-T4HD"


def test_the_per_member_limit_counts_every_coupon_of_the_template(applied, member, s2_member):
    first = services.issue_coupon(applied, member, "room_night")
    services.consume_coupon(first.pk, sale_ref="sale-1", at=timezone.now())
    services.issue_coupon(applied, member, "room_night")
    with pytest.raises(Conflict) as caught:
        services.issue_coupon(applied, member, "room_night")
    assert (caught.value.code, caught.value.status) == ("coupon_limit_reached", 409)
    # A used coupon still counts; another member has their own allowance.
    services.issue_coupon(applied, s2_member, "room_night")
    template = CouponTemplate.objects.get(code="room_night")
    assert template.issued_count == 3  # the refused issue was rolled back


def test_stock_is_never_oversold(applied, member, s2_member):
    set_templates(applied, template_row("few", valid_days=7, stock=2))
    services.issue_coupon(applied, member, "few")
    services.issue_coupon(applied, s2_member, "few")
    with pytest.raises(Conflict) as caught:
        services.issue_coupon(applied, member, "few")
    assert caught.value.code == "coupon_out_of_stock"
    assert CouponTemplate.objects.get(code="few").remaining == 0
    # Raising the stock in the program lets issuing go on.
    set_templates(applied, template_row("few", valid_days=7, stock=3))
    services.issue_coupon(applied, member, "few")
    assert Coupon.objects.filter(template__code="few").count() == 3


def test_the_same_key_issues_one_coupon(applied, member):
    first = services.issue_coupon(applied, member, "room_night", key="k-1")
    again = services.issue_coupon(applied, member, "room_night", key="k-1")
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert Coupon.objects.count() == 1
    assert CouponTemplate.objects.get(code="room_night").issued_count == 1
    with pytest.raises(Conflict) as caught:
        services.issue_coupon(applied, member, "cny", key="k-1")
    assert caught.value.code == "idempotency_conflict"


def test_unknown_or_ended_templates_are_refused(applied, member):
    with pytest.raises(DomainError) as caught:
        services.issue_coupon(applied, member, "nope")
    assert (caught.value.code, caught.value.status) == ("coupon_template_not_found", 422)
    assert caught.value.errors[0].field == "template"
    apply_program(applied, {"coupon_templates": []})
    with pytest.raises(DomainError) as caught:
        services.issue_coupon(applied, member, "room_night")
    assert caught.value.code == "coupon_template_not_found"


def test_another_merchants_member_is_not_found(applied, db):
    other = create_merchant("other", "Other Co")
    stranger = register_member(Actor.system(other), {"mobile": "13900139000"})
    with pytest.raises(NotFound):
        services.issue_coupon(applied, stranger, "room_night")
    assert not Coupon.objects.exists()


def test_a_frozen_member_gets_no_coupon(applied, member):
    member.status = MemberStatus.FROZEN
    member.save()
    with pytest.raises(Conflict) as caught:
        services.issue_coupon(applied, member, "room_night")
    assert caught.value.code == "member_frozen"


def test_issuing_is_audited(hq, applied, member):
    coupon = services.issue_coupon(hq, member, "room_night")
    entry = AuditEntry.objects.get(object_type="coupon", object_id=str(coupon.pk))
    assert entry.user == hq.user and entry.action == AuditEntry.Action.CREATE
    assert entry.changes["template"] == [None, "room_night"]
    assert entry.changes["member"] == [None, member.card_no]
    assert coupon.issued_by == hq.user


# --- consuming and returning -----------------------------------------------------------------


def test_a_coupon_is_consumed_once_and_returned(applied, member):
    coupon = services.issue_coupon(applied, member, "room_night")
    at = timezone.now()
    assert services.consume_coupon(coupon.pk, sale_ref="sale-1", at=at) is True
    assert services.consume_coupon(coupon.pk, sale_ref="sale-2", at=at) is False
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_in, coupon.used_at) == ("used", "sale-1", at)
    services.return_coupon(coupon.pk)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_in, coupon.used_at) == ("available", "", None)
    assert services.consume_coupon(coupon.pk, sale_ref="sale-3", at=at) is True


def test_returning_an_unused_coupon_changes_nothing(applied, member):
    coupon = services.issue_coupon(applied, member, "room_night")
    services.end_coupon(applied, coupon, reason="wrong member")
    services.return_coupon(coupon.pk)
    assert Coupon.objects.get(pk=coupon.pk).status == CouponStatus.ENDED
    assert services.consume_coupon(coupon.pk, sale_ref="s", at=timezone.now()) is False


def test_withdrawing_needs_a_manager_and_a_reason(applied, member, cashier, hq):
    coupon = services.issue_coupon(applied, member, "room_night")
    with pytest.raises(PermissionDenied):
        services.end_coupon(cashier, coupon, reason="oops")
    with pytest.raises(DomainError) as caught:
        services.end_coupon(hq, coupon, reason="  ")
    assert caught.value.errors[0].field == "reason"
    services.end_coupon(hq, coupon, reason="issued twice")
    entry = AuditEntry.objects.get(object_type="coupon", action="update")
    assert entry.changes["reason"] == [None, "issued twice"]
    with pytest.raises(Conflict):
        services.end_coupon(hq, coupon, reason="again")


# --- tiers -----------------------------------------------------------------------------------


def test_staff_set_a_tier_with_an_audited_reason(applied, member, hq):
    assert selectors.member_tier_code(member) == "normal"
    member = services.set_member_tier(hq, member, "gold", reason="VIP guest")
    assert member.tier.code == "gold" and selectors.member_tier_code(member) == "gold"
    entry = AuditEntry.objects.get(object_type="member", object_id=str(member.pk), action="update")
    assert entry.changes == {"tier": ["normal", "gold"], "reason": [None, "VIP guest"]}
    # Back to rank 0 is stored as no tier: members without one start at rank 0.
    member = services.set_member_tier(hq, member, "normal")
    assert member.tier_id is None and selectors.member_tier_code(member) == "normal"


def test_setting_the_same_tier_records_nothing(applied, member, hq):
    services.set_member_tier(hq, member, "silver")
    services.set_member_tier(hq, member, "silver")
    assert AuditEntry.objects.filter(object_type="member", action="update").count() == 1


def test_only_managers_set_tiers(applied, member, cashier, marketer, system, stores):
    for actor in (cashier, marketer):
        with pytest.raises(PermissionDenied):
            services.set_member_tier(actor, member, "gold")
    manager = staff_actor(system, "m1", Role.STORE_MANAGER, stores["S1"])
    assert services.set_member_tier(manager, member, "gold").tier.code == "gold"


def test_an_unknown_or_ended_tier_is_refused(applied, member, hq):
    with pytest.raises(DomainError) as caught:
        services.set_member_tier(hq, member, "platinum")
    assert (caught.value.code, caught.value.errors[0].field) == ("tier_not_found", "tier")
    services.set_member_tier(hq, member, "silver")
    tiers = [t for t in program()["tiers"] if t["code"] != "silver"]
    apply_program(applied, {"tiers": tiers})
    member.refresh_from_db()
    # The member keeps the ended tier for history but is priced on rank 0.
    assert member.tier.code == "silver" and selectors.member_tier_code(member) == "normal"
    with pytest.raises(DomainError):
        services.set_member_tier(hq, member, "silver")


# --- demo ------------------------------------------------------------------------------------


def test_the_demo_merchant_has_tiers_promotions_and_coupons(db):
    from patron.demo.services import create_demo

    result = create_demo(members=120)
    merchant = result.merchant
    engine = selectors.engine_program(merchant)
    assert [t.code for t in engine.tiers] == ["normal", "silver", "gold"]
    # Member day, drinks 3-for-2, the WELCOME20 code, gold double points, and the flash offer.
    assert len(engine.promotions) == 5
    assert [p.limits for p in engine.promotions if p.code == "flash_gift_tea"] != [None]
    tiers = set(Member.objects.filter(merchant=merchant).values_list("tier__code", flat=True))
    assert tiers == {None, "silver", "gold"}
    assert Coupon.objects.filter(merchant=merchant).count() > 5
