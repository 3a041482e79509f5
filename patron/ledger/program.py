"""Program-file sections owned by the ledger: `points`, `topup_bonus`, `stored_value`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patron.core.errors import FieldError
from patron.ledger.models import DEFAULT_POINTS_POLICY, LedgerPolicy
from patron.tenancy.actor import Actor

EXPIRY_POLICIES = ("end_of_next_year", "rolling_days", "never")
SPLIT_RULES = tuple(LedgerPolicy.Split.values)


def _int(value: Any, path: str, errors: list[FieldError], *, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(
                path, _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
            )
        )
        return None
    return value


def _mapping(value: Any, path: str, errors: list[FieldError], allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        errors.append(FieldError(path, _("Must be a mapping.")))
        return {}
    for key in sorted(set(value) - allowed):
        errors.append(FieldError(f"{path}.{key}", _("Unknown key.")))
    return value


def check_points(value: Any, errors: list[FieldError]) -> dict[str, Any]:
    section = _mapping(value, "points", errors, set(DEFAULT_POINTS_POLICY))
    cleaned: dict[str, Any] = {}
    if "earn" in section:
        earn = _mapping(section["earn"], "points.earn", errors, {"per_amount", "points"})
        cleaned["earn"] = {
            "per_amount": _int(
                earn.get("per_amount"), "points.earn.per_amount", errors, low=1, high=10**9
            ),
            "points": _int(earn.get("points"), "points.earn.points", errors, low=0, high=10**6),
        }
    if "earn_exclude_categories" in section:
        categories = section["earn_exclude_categories"]
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            errors.append(
                FieldError("points.earn_exclude_categories", _("Must be a list of category names."))
            )
        else:
            cleaned["earn_exclude_categories"] = categories
    if "redeem_cash" in section:
        redeem = _mapping(
            section["redeem_cash"],
            "points.redeem_cash",
            errors,
            {"points", "value", "max_share_percent"},
        )
        cleaned["redeem_cash"] = {
            "points": _int(
                redeem.get("points"), "points.redeem_cash.points", errors, low=1, high=10**9
            ),
            "value": _int(
                redeem.get("value"), "points.redeem_cash.value", errors, low=1, high=10**9
            ),
            "max_share_percent": _int(
                redeem.get("max_share_percent", 100),
                "points.redeem_cash.max_share_percent",
                errors,
                low=0,
                high=100,
            ),
        }
    if "expiry" in section:
        expiry = _mapping(section["expiry"], "points.expiry", errors, {"policy", "days"})
        policy = expiry.get("policy")
        if policy not in EXPIRY_POLICIES:
            errors.append(
                FieldError("points.expiry.policy", _("One of: %s") % ", ".join(EXPIRY_POLICIES))
            )
        cleaned["expiry"] = {"policy": policy}
        if policy == "rolling_days":
            cleaned["expiry"]["days"] = _int(
                expiry.get("days"), "points.expiry.days", errors, low=1, high=36500
            )
    if "pending_days" in section:
        cleaned["pending_days"] = _int(
            section["pending_days"], "points.pending_days", errors, low=0, high=365
        )
    return cleaned


def check_topup_bonus(value: Any, errors: list[FieldError]) -> list[dict[str, int]]:
    if not isinstance(value, list):
        errors.append(FieldError("topup_bonus", _("Must be a list of {min, bonus}.")))
        return []
    rows, seen = [], set()
    for index, row in enumerate(value):
        path = f"topup_bonus[{index}]"
        row = _mapping(row, path, errors, {"min", "bonus"})
        low = _int(row.get("min"), f"{path}.min", errors, low=1, high=10**10)
        bonus = _int(row.get("bonus"), f"{path}.bonus", errors, low=0, high=10**10)
        if low in seen:
            errors.append(FieldError(f"{path}.min", _("Two rows with the same minimum.")))
        seen.add(low)
        if low is not None and bonus is not None:
            rows.append({"min": low, "bonus": bonus})
    return sorted(rows, key=lambda row: row["min"])


def check_stored_value(value: Any, errors: list[FieldError]) -> dict[str, Any]:
    section = _mapping(value, "stored_value", errors, {"payment_split", "max_topup"})
    cleaned: dict[str, Any] = {}
    if "payment_split" in section:
        if section["payment_split"] not in SPLIT_RULES:
            errors.append(
                FieldError("stored_value.payment_split", _("One of: %s") % ", ".join(SPLIT_RULES))
            )
        cleaned["payment_split"] = section["payment_split"]
    if "max_topup" in section:
        cleaned["max_topup"] = _int(
            section["max_topup"], "stored_value.max_topup", errors, low=1, high=10**11
        )
    return cleaned


def _policy(actor: Actor) -> LedgerPolicy:
    return LedgerPolicy.objects.filter(merchant=actor.merchant).first() or LedgerPolicy(
        merchant=actor.merchant, points={}, topup_bonus=[]
    )


def _save(actor: Actor, **fields: Any) -> None:
    with transaction.atomic():
        policy = _policy(actor)
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.save()


def plan_points(actor: Actor, cleaned: dict[str, Any], plan) -> None:
    from patron.program.services import Change

    # The section replaces the current one: keys left out fall back to the defaults.
    wanted = {**DEFAULT_POINTS_POLICY, **cleaned}
    current = _policy(actor).points_policy()
    for key in DEFAULT_POINTS_POLICY:
        if current.get(key) != wanted.get(key):
            plan.changes.append(
                Change("points", "change", key, f"{current.get(key)!r} -> {wanted.get(key)!r}")
            )
    if current != wanted:
        plan.steps.append(lambda: _save(actor, points=wanted))


def plan_topup_bonus(actor: Actor, rows: list[dict[str, int]], plan) -> None:
    from patron.program.services import Change

    current = sorted(_policy(actor).topup_bonus or [], key=lambda row: row["min"])
    if current != rows:
        before = {row["min"]: row["bonus"] for row in current}
        after = {row["min"]: row["bonus"] for row in rows}
        for low in sorted(set(before) | set(after)):
            if low not in before:
                plan.changes.append(Change("topup_bonus", "add", str(low), f"bonus {after[low]}"))
            elif low not in after:
                plan.changes.append(Change("topup_bonus", "end", str(low)))
            elif before[low] != after[low]:
                plan.changes.append(
                    Change(
                        "topup_bonus", "change", str(low), f"bonus {before[low]} -> {after[low]}"
                    )
                )
        plan.steps.append(lambda: _save(actor, topup_bonus=rows))


def plan_stored_value(actor: Actor, cleaned: dict[str, Any], plan) -> None:
    from patron.program.services import Change

    policy = _policy(actor)
    wanted = {
        "payment_split": cleaned.get("payment_split", LedgerPolicy.Split.PROPORTIONAL),
        "max_topup": cleaned.get("max_topup", 5_000_000),
    }
    changed = {k: v for k, v in wanted.items() if getattr(policy, k) != v}
    for key, value in changed.items():
        plan.changes.append(
            Change("stored_value", "change", key, f"{getattr(policy, key)!r} -> {value!r}")
        )
    if changed:
        plan.steps.append(lambda: _save(actor, **changed))


def export_points(actor: Actor) -> dict[str, Any]:
    return _policy(actor).points_policy()


def export_topup_bonus(actor: Actor) -> list[dict[str, int]]:
    return sorted(_policy(actor).topup_bonus or [], key=lambda row: row["min"])


def export_stored_value(actor: Actor) -> dict[str, Any]:
    policy = _policy(actor)
    return {"payment_split": policy.payment_split, "max_topup": policy.max_topup}


def register() -> None:
    from patron.program.services import register_section

    register_section("points", check_points, plan_points, export_points)
    register_section("topup_bonus", check_topup_bonus, plan_topup_bonus, export_topup_bonus)
    register_section("stored_value", check_stored_value, plan_stored_value, export_stored_value)
