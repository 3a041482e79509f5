"""The `checkout` program section: PIN threshold and lockout, back-dating window, coupons on
refund. Absent keys keep their defaults; the section replaces the current settings whole."""

from __future__ import annotations

from typing import Annotated, Any

from patron.program.fields import OneOf, Whole
from patron.program.schema import ProgramModel
from patron.program.services import Plan, register_section
from patron.sales.models import CheckoutPolicy
from patron.tenancy.actor import Actor

REFUND_COUPON_RULES = ("never", "full_refund")
DEFAULTS: dict[str, Any] = {
    "pin_required_above": None,
    "pin_max_attempts": 5,
    "pin_lock_minutes": 30,
    "backdate_days": 30,
    "refund_returns_coupons": "full_refund",
}


class Checkout(ProgramModel):
    """The till's rules; a key left out takes its default (a PIN above no amount: null)."""

    pin_required_above: Annotated[int, Whole(0, 10**11)] | None = None
    pin_max_attempts: Annotated[int, Whole(1, 20)] = None
    pin_lock_minutes: Annotated[int, Whole(1, 10080)] = None
    backdate_days: Annotated[int, Whole(0, 365)] = None
    refund_returns_coupons: Annotated[str, OneOf(REFUND_COUPON_RULES)] = None

    def cleaned(self) -> dict[str, Any]:
        # null and a key left out both mean no PIN threshold.
        return {key: value for key, value in self.given().items() if value is not None}


def checkout_policy(merchant) -> CheckoutPolicy:
    found = CheckoutPolicy.objects.filter(merchant=merchant).first()
    return found or CheckoutPolicy(merchant=merchant)


def export_checkout(actor: Actor) -> dict[str, Any]:
    policy = checkout_policy(actor.merchant)
    return {key: getattr(policy, key) for key in DEFAULTS}


def plan_checkout(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    wanted = {**DEFAULTS, **cleaned}
    plan.settings(
        "checkout",
        export_checkout(actor),
        wanted,
        lambda: CheckoutPolicy.objects.update_or_create(merchant=actor.merchant, defaults=wanted),
        DEFAULTS,
    )


def register() -> None:
    register_section("checkout", Checkout, plan_checkout, export_checkout)
