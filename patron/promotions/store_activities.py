"""HQ and store activities (F-41): who owns a promotion, coupon template or campaign, and the
limits within which a store manager runs their store's own.

A promotion, coupon template or campaign belongs to HQ (`owner_store` None) or to one store
(program file `owner: S1`). The program section `store_activities` is what HQ allows:

    store_activities: {allowed: true, benefit_types: [percent, fixed], max_percent_off: 20,
                       max_amount_off: 5000, coupons: true, campaigns: true, max_live: 5}

Absent (or `allowed: false`): store managers may run none. HQ admins and marketers are not
bound by these limits (the program file and their console edits may give a store anything).
A store manager's change is checked here (`refusals`) before it is applied; the console and
the API call `store_scope` to know whose activities an actor may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from patron.core.errors import DomainError, FieldError
from patron.core.money import yuan
from patron.engine.pricing import BENEFIT_TYPES
from patron.program.fields import Bool, Count, Fen, OneOf, Percent
from patron.program.schema import ProgramModel, Refusal
from patron.program.services import Plan, register_section
from patron.promotions.models import CouponTemplate, Promotion, StoreActivityLimits
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Role, Store

OWNER_HQ = "hq"
# A store may use these when HQ lists no `benefit_types`.
DEFAULT_TYPES = ("percent", "fixed")
PERCENT_TYPES = ("percent", "cheapest_percent")
# Benefits whose discount their value does not bound: with `max_amount_off` they need a
# `max_discount` within it.
UNBOUNDED_TYPES = ("fixed_price", "free_items", "gift", "cheapest_percent")
KEYS = (
    "allowed",
    "benefit_types",
    "max_percent_off",
    "max_amount_off",
    "coupons",
    "campaigns",
    "max_live",
)
DEFAULTS: dict[str, Any] = {
    "allowed": False,
    "benefit_types": [],
    "max_percent_off": None,
    "max_amount_off": None,
    "coupons": True,
    "campaigns": False,
    "max_live": None,
}
BenefitType = Annotated[str, OneOf(tuple(BENEFIT_TYPES))]
# Activities of a store that are live elsewhere (campaigns), counted towards `max_live`.
_live_counters: list[Callable[[Merchant, Store], int]] = []


class StoreActivities(ProgramModel):
    """What store managers may run as their store's own promotions, coupons and campaigns."""

    allowed: Bool = False
    benefit_types: list[BenefitType] = None
    max_percent_off: Percent = None
    max_amount_off: Fen = None
    coupons: Bool = True
    campaigns: Bool = False
    max_live: Count = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        types = value.get("benefit_types")
        if isinstance(types, list) and not types:
            yield ("benefit_types",), _("List at least one benefit type, or leave it out.")

    def cleaned(self) -> dict[str, Any]:
        given = {**DEFAULTS, **self.given()}
        given["benefit_types"] = sorted(set(given["benefit_types"] or []))
        return given


def limits_for(merchant: Merchant) -> StoreActivityLimits:
    """The merchant's limits; without a row, the defaults (store managers may run none)."""
    found = StoreActivityLimits.objects.filter(merchant=merchant).first()
    return found or StoreActivityLimits(merchant=merchant, **DEFAULTS)


def export_store_activities(actor: Actor) -> dict[str, Any]:
    limits = limits_for(actor.merchant)
    return {key: getattr(limits, key) for key in KEYS if getattr(limits, key) != DEFAULTS[key]}


def plan_store_activities(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    limits = limits_for(actor.merchant)
    current = {key: getattr(limits, key) for key in KEYS}
    plan.settings(
        "store_activities",
        current,
        cleaned,
        lambda: StoreActivityLimits.objects.update_or_create(
            merchant=actor.merchant, defaults=cleaned
        ),
        KEYS,
    )


# --- who may change what ---------------------------------------------------------------------


class NotYourStore(DomainError):
    """A store manager reaching for HQ's or another store's activity (403, nothing written)."""

    def __init__(self) -> None:
        detail = _("A store manager may change only their own store's activities.")
        super().__init__(detail=detail, code="not_your_store", status=403)


class StoreActivitiesOff(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="store_activities_not_allowed", status=403)


def store_scope(actor: Actor) -> Store | None:
    """The store whose own activities `actor` may change, or None for HQ roles (all of them).

    Raises NotYourStore for a store manager without a store (nothing is theirs to change).
    """
    if actor.role != Role.STORE_MANAGER:
        return None
    if actor.store is None:
        raise NotYourStore
    return actor.store


def check_owner(scope: Store | None, owner_code: str | None) -> None:
    """A store manager's activity must be their store's (a tampered owner is refused)."""
    if scope is not None and owner_code != scope.code:
        raise NotYourStore


def check_allowed(merchant: Merchant, what: str) -> StoreActivityLimits:
    """The limits, if HQ lets stores run `what` (promotions, coupon_templates, campaigns)."""
    limits = limits_for(merchant)
    if not limits.allowed:
        raise StoreActivitiesOff(_("HQ has not allowed stores to run their own activities."))
    if what == "coupon_templates" and not limits.coupons:
        raise StoreActivitiesOff(_("HQ has not allowed stores to run their own coupons."))
    if what == "campaigns" and not limits.campaigns:
        raise StoreActivitiesOff(_("HQ has not allowed stores to run their own campaigns."))
    return limits


def benefit_refusals(limits: StoreActivityLimits, benefit: dict[str, Any]) -> list[Refusal]:
    """Where a benefit goes beyond HQ's limits: (path below the row, why)."""
    kind = benefit.get("type")
    allowed = limits.benefit_types or list(DEFAULT_TYPES)
    if kind not in allowed:
        return [
            (
                ("benefit", "type"),
                _("HQ lets stores give only these benefits: %s.") % ", ".join(allowed),
            )
        ]
    found: list[Refusal] = []
    value = benefit.get("value")
    top = limits.max_percent_off
    if kind in PERCENT_TYPES and top is not None and isinstance(value, int) and value > top:
        found.append((("benefit", "value"), _("At most %d%% off (HQ's limit for stores).") % top))
    cap = limits.max_amount_off
    if cap is None:
        return found
    beyond = _("At most %s off (HQ's limit for stores).") % yuan(cap)
    if kind == "fixed" and isinstance(value, int) and value > cap:
        found.append((("benefit", "value"), beyond))
    most = benefit.get("max_discount")
    if isinstance(most, int) and most > cap:
        found.append((("benefit", "max_discount"), beyond))
    elif most is None and kind in UNBOUNDED_TYPES:
        found.append(
            (
                ("benefit", "max_discount"),
                _("Give a maximum discount of at most %s (HQ's limit for stores).") % yuan(cap),
            )
        )
    return found


def register_live_counter(counter: Callable[[Merchant, Store], int]) -> None:
    """Let a higher app count a store's live activities of its own (campaigns)."""
    if counter not in _live_counters:
        _live_counters.append(counter)


def live_count(merchant: Merchant, store: Store) -> int:
    """The store's own promotions and coupon templates not ended, and its live campaigns."""
    own = {"merchant": merchant, "owner_store": store, "is_active": True}
    count = Promotion.objects.filter(**own).count() + CouponTemplate.objects.filter(**own).count()
    return count + sum(counter(merchant, store) for counter in _live_counters)


def check_live(limits: StoreActivityLimits, merchant: Merchant, store: Store) -> None:
    """Room for one more of the store's activities under `max_live`."""
    if limits.max_live is not None and live_count(merchant, store) >= limits.max_live:
        detail = _("Your store already runs %d activities, HQ's limit.") % limits.max_live
        raise DomainError(
            detail=detail,
            code="store_activities_limit",
            status=422,
            errors=[FieldError("", detail)],
        )


def register() -> None:
    register_section(
        "store_activities", StoreActivities, plan_store_activities, export_store_activities
    )


# --- what the console lists ------------------------------------------------------------------


def listed(queryset: QuerySet[Any], scope: Store | None, owner: str = "") -> QuerySet[Any]:
    """Promotions, coupon templates or campaigns an actor sees: HQ roles all, a store manager
    HQ's (read-only) and their store's own, never another store's. `owner` filters: "hq",
    a store code, or "" for every one shown."""
    if scope is not None:
        queryset = queryset.filter(Q(owner_store=None) | Q(owner_store=scope))
    if owner == OWNER_HQ:
        queryset = queryset.filter(owner_store=None)
    elif owner:
        queryset = queryset.filter(owner_store__code=owner)
    return queryset.select_related("owner_store")


def may_change(actor: Actor, owner_store_id: int | None) -> bool:
    """Whether the console offers `actor` to change an activity of this owner."""
    if actor.role in (Role.HQ_ADMIN, Role.MARKETER):
        return True
    store = actor.store
    return actor.role == Role.STORE_MANAGER and store is not None and owner_store_id == store.pk


def may_create(actor: Actor, what: str) -> bool:
    """Whether the console offers `actor` a "new" button for `what`."""
    if actor.role in (Role.HQ_ADMIN, Role.MARKETER):
        return True
    if actor.role != Role.STORE_MANAGER or actor.store is None:
        return False
    try:
        check_allowed(actor.merchant, what)
    except StoreActivitiesOff:
        return False
    return True


def owner_choices(actor: Actor) -> list[tuple[str, str]]:
    """The owner filter: HQ, then the stores the actor may see."""
    stores = Store.objects.filter(merchant=actor.merchant, is_active=True).order_by("code")
    if actor.role == Role.STORE_MANAGER:
        stores = stores.filter(pk=actor.store.pk if actor.store else None)
    return [(OWNER_HQ, _("HQ")), *((s.code, s.name) for s in stores)]
