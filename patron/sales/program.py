"""The `checkout` program section: PIN threshold and lockout, back-dating window, coupons on
refund. Absent keys keep their defaults; the section replaces the current settings whole."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from patron.core.errors import FieldError
from patron.ledger.program import _int, _mapping
from patron.program.services import Change, Plan, register_section
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


def check_checkout(value: Any, errors: list[FieldError]) -> dict[str, Any]:
    section = _mapping(value, "checkout", errors, set(DEFAULTS))
    cleaned: dict[str, Any] = {}
    if section.get("pin_required_above") is not None:
        cleaned["pin_required_above"] = _int(
            section["pin_required_above"], "checkout.pin_required_above", errors, low=0, high=10**11
        )
    limits = {
        "pin_max_attempts": (1, 20),
        "pin_lock_minutes": (1, 10080),
        "backdate_days": (0, 365),
    }
    for key, (low, high) in limits.items():
        if key in section:
            cleaned[key] = _int(section[key], f"checkout.{key}", errors, low=low, high=high)
    if "refund_returns_coupons" in section:
        rule = section["refund_returns_coupons"]
        if rule not in REFUND_COUPON_RULES:
            errors.append(
                FieldError(
                    "checkout.refund_returns_coupons",
                    _("One of: %s") % ", ".join(REFUND_COUPON_RULES),
                )
            )
        cleaned["refund_returns_coupons"] = rule
    return cleaned


def checkout_policy(merchant) -> CheckoutPolicy:
    found = CheckoutPolicy.objects.filter(merchant=merchant).first()
    return found or CheckoutPolicy(merchant=merchant)


def export_checkout(actor: Actor) -> dict[str, Any]:
    policy = checkout_policy(actor.merchant)
    return {key: getattr(policy, key) for key in DEFAULTS}


def plan_checkout(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    wanted = {**DEFAULTS, **cleaned}
    current = export_checkout(actor)
    for key in DEFAULTS:
        if current[key] != wanted[key]:
            plan.changes.append(
                Change("checkout", "change", key, f"{current[key]!r} -> {wanted[key]!r}")
            )
    if current != wanted:
        plan.steps.append(
            lambda: CheckoutPolicy.objects.update_or_create(
                merchant=actor.merchant, defaults=wanted
            )
        )


def register() -> None:
    register_section("checkout", check_checkout, plan_checkout, export_checkout)
