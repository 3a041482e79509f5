"""The `checkin` and `referral` program sections (API.md §11; docs/activities.md).

```yaml
checkin:
  points: 5
  streaks: [{days: 7, points: 20, makeup_cards: 1}, {days: 30, points: 100}]
  makeup_cards: {window_days: 7}
  actions: {profile_completed: 50, review: 10, reviews_per_day: 1}
  birthday: {points_multiplier: 2, when: day, calendar: member}
referral: {referrer_points: 500, referee_coupon: welcome20, on: first_purchase, monthly_cap: 20}
```
A section left out of a file is left as it is (like `recruitment`); an empty mapping turns
it off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _

from patron.activities.models import EngagePolicy
from patron.core.errors import FieldError, ValidationFailed
from patron.program.fields import Code, MultiplierPercent, Whole
from patron.program.schema import ItemList, ProgramModel, Refusal, mappings, repeats
from patron.program.services import Plan, register_section
from patron.promotions import selectors as promotion_selectors
from patron.promotions.models import CouponTemplate
from patron.promotions.program import multiplier_number
from patron.tenancy.actor import Actor

Points = Annotated[int, Whole(0, 1_000_000)]
PositivePoints = Annotated[int, Whole(1, 1_000_000)]
StreakDays = Annotated[int, Whole(2, 3650)]
Cards = Annotated[int, Whole(0, 100)]
MAKEUP_WINDOW_DEFAULT = 7
REVIEWS_PER_DAY_DEFAULT = 1


class Streak(ProgramModel):
    """On the day a streak reaches exactly `days`: `points` more, and make-up cards."""

    days: StreakDays
    points: Points = 0
    makeup_cards: Cards = 0


class Streaks(ItemList[Streak]):
    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        found = [(index, item.get("days")) for index, item in mappings(value)]
        for index, days in repeats(found):
            yield (index, "days"), _("Two streak bonuses for %s days.") % days


class MakeupRule(ProgramModel):
    """A make-up card fills a missed day at most `window_days` back (yesterday is 1)."""

    window_days: Annotated[int, Whole(1, 31)] = MAKEUP_WINDOW_DEFAULT


class Actions(ProgramModel):
    """Points for what a member does: completing the profile (once ever), a review (each,
    at most `reviews_per_day` a day)."""

    profile_completed: Points = 0
    review: Points = 0
    reviews_per_day: Annotated[int, Whole(1, 100)] = REVIEWS_PER_DAY_DEFAULT


class BirthdayRule(ProgramModel):
    """Points of a member's sales multiplied on their birthday (or in its month)."""

    points_multiplier: MultiplierPercent
    when: Literal["day", "month"] = "day"
    calendar: Literal["member", "solar", "lunar"] = "member"


class Checkin(ProgramModel):
    points: Points = 0
    streaks: Streaks = None
    makeup_cards: MakeupRule = None
    actions: Actions = None
    birthday: BirthdayRule = None

    def cleaned(self) -> dict[str, Any]:
        found: dict[str, Any] = {"points": self.points} if "points" in self.model_fields_set else {}
        if self.streaks and self.streaks.root:
            rows = sorted((row.given() for row in self.streaks.root), key=lambda r: r["days"])
            found["streaks"] = rows
        if self.makeup_cards is not None:
            found["makeup_cards"] = self.makeup_cards.model_dump()
        if self.actions is not None:
            found["actions"] = self.actions.model_dump()
        if self.birthday is not None:
            found["birthday"] = self.birthday.model_dump()
        return found


class Referral(ProgramModel):
    """Empty: no referral rewards (what an export of a merchant without them gives)."""

    referrer_points: PositivePoints = None
    referee_coupon: Code = None
    on: Literal["first_purchase"] = "first_purchase"
    monthly_cap: Annotated[int, Whole(1, 100_000)] = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if isinstance(value, dict) and value and "referrer_points" not in value:
            yield ("referrer_points",), _("Required.")

    def cleaned(self) -> dict[str, Any]:
        if self.referrer_points is None:
            return {}
        return {key: value for key, value in self.model_dump().items() if value is not None}


# --- plan and export -------------------------------------------------------------------------


def policy(merchant_id: int) -> EngagePolicy:
    """The merchant's rules (an unsaved empty one when none were applied)."""
    found = EngagePolicy.objects.filter(merchant_id=merchant_id).first()
    return found or EngagePolicy(merchant_id=merchant_id)


# The rules as the last sale of each merchant saw them, under the promotions cache's program
# key (a program apply makes a new revision, so a new key): a sale reads no policy row.
_sale_policies: dict[int, tuple[tuple, EngagePolicy]] = {}


def sale_policy(merchant_id: int) -> EngagePolicy:
    """`policy` for the sale path, cached like the tiers' sale rules."""
    key = promotion_selectors.cached_program_key(merchant_id)
    if key is None:
        return policy(merchant_id)
    cached = _sale_policies.get(merchant_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = policy(merchant_id)
    _sale_policies[merchant_id] = (key, found)
    return found


def _save(actor: Actor, field: str, value: dict[str, Any]) -> None:
    EngagePolicy.objects.update_or_create(merchant=actor.merchant, defaults={field: value})


def _plan(actor: Actor, section: str, cleaned: dict[str, Any], plan: Plan) -> None:
    current = getattr(policy(actor.merchant.pk), section)
    plan.settings(section, current, cleaned, lambda: _save(actor, section, cleaned))


def plan_checkin(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    _plan(actor, "checkin", cleaned, plan)


def _known_template(actor: Actor, code: str, plan: Plan) -> bool:
    """Active now, or added by the same file (its section is planned before this one)."""
    changes = [c for c in plan.changes if c.section == "coupon_templates" and c.key == code]
    if any(c.op == "end" for c in changes):
        return False
    if changes:
        return True
    return CouponTemplate.objects.filter(
        merchant=actor.merchant, code=code, is_active=True
    ).exists()


def plan_referral(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    code = cleaned.get("referee_coupon")
    if code and not _known_template(actor, code, plan):
        raise ValidationFailed(
            [FieldError("referral.referee_coupon", _("Unknown coupon template %s.") % code)]
        )
    _plan(actor, "referral", cleaned, plan)


def export_checkin(actor: Actor) -> dict[str, Any]:
    found = dict(policy(actor.merchant.pk).checkin)
    if "birthday" in found:  # stored in percent, written as the file writes it (2, 1.5)
        percent = found["birthday"]["points_multiplier"]
        found["birthday"] = {**found["birthday"], "points_multiplier": multiplier_number(percent)}
    return found


def export_referral(actor: Actor) -> dict[str, Any]:
    return dict(policy(actor.merchant.pk).referral)


def register() -> None:
    register_section("checkin", Checkin, plan_checkin, export_checkin)
    register_section("referral", Referral, plan_referral, export_referral)
