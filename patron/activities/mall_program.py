"""Program section `rewards` (API.md §2, §11): the points mall's rewards.

A reward of kind `coupon` names a coupon template of the program: one in the same file
(planned before this section) or one already applied; anything else rejects the file with the
reward's path. A reward left out of the file is ended (its redemptions are kept). `stock` is
the number of units offered in all; what is left is `stock` less the redemptions not cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from patron.activities.models import Reward
from patron.core.errors import FieldError, ValidationFailed
from patron.program.fields import MAX_COUNT, Code, Count, End, Fen, Name, OneOf, Start, Text, Whole
from patron.program.schema import CodedList, ProgramModel, Refusal
from patron.program.services import Plan
from patron.promotions.models import CouponTemplate
from patron.promotions.program import Zone, plan_rows, window_problems
from patron.tenancy.actor import Actor

Points = Annotated[int, Whole(1, MAX_COUNT)]
Stock = Annotated[int, Whole(0, MAX_COUNT)]
KIND = OneOf(tuple(Reward.Kind.values))


class RewardRow(ProgramModel):
    """A reward of the points mall: `points` (and `cash` fen) for a coupon or goods."""

    code: Code
    name: Name
    points: Points
    cash: Fen = None
    kind: Annotated[str, KIND]
    coupon: Code = None
    stock: Stock = None
    per_member: Count = None
    starts_at: Start = None
    ends_at: End = None
    description: Annotated[str, Text(500)] = None
    image: Annotated[str, Text(500)] = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        if value.get("kind") == Reward.Kind.COUPON and not value.get("coupon"):
            yield ("coupon",), _("A coupon reward names the coupon template it gives.")
        if value.get("kind") == Reward.Kind.GOODS and value.get("coupon"):
            yield ("coupon",), _("Only a coupon reward names a coupon template.")
        yield from window_problems(value, "starts_at", "ends_at")

    def cleaned(self, index: int) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "points": self.points,
            "cash": self.cash or 0,
            "kind": self.kind,
            "coupon": self.coupon or "",
            "stock": self.stock,
            "per_member": self.per_member,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "description": self.description or "",
            "image": self.image or "",
            "position": index,
            "path": f"rewards[{index}]",
        }


class Rewards(CodedList[RewardRow]):
    """The points mall's rewards, in the order members see them."""

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned(index) for index, row in enumerate(self.root)]


def _check_coupons(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    """The coupon templates named exist when the plan runs: in the file or already active."""
    known = set(
        CouponTemplate.objects.filter(merchant=actor.merchant, is_active=True).values_list(
            "code", flat=True
        )
    )
    known |= {c.key for c in plan.changes if c.section == "coupon_templates" and c.op != "end"}
    ended = {c.key for c in plan.changes if c.section == "coupon_templates" and c.op == "end"}
    errors = [
        FieldError(f"{row['path']}.coupon", _("Unknown coupon template %s.") % row["coupon"])
        for row in rows
        if row["coupon"] and (row["coupon"] not in known or row["coupon"] in ended)
    ]
    if errors:
        raise ValidationFailed(errors)


def _check_stock(actor: Actor, wanted: dict[str, dict[str, Any]], zone: Zone) -> None:
    """A stock below what members already redeemed (and did not cancel) cannot be."""
    redeemed = dict(
        Reward.objects.filter(merchant=actor.merchant, code__in=list(wanted)).values_list(
            "code", "redeemed_count"
        )
    )
    for code, fields in wanted.items():
        if fields["stock"] is not None and fields["stock"] < redeemed.get(code, 0):
            zone.errors.append(
                FieldError(
                    f"rewards[{fields['position']}].stock",
                    _("%d already redeemed: the stock cannot be lower.") % redeemed[code],
                )
            )


def plan_rewards(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    _check_coupons(actor, rows, plan)
    zone = Zone(actor)
    wanted = {}
    for row in rows:
        start, end = zone.window(row["starts_at"], row["ends_at"], f"{row['path']}.ends_at")
        fields = {k: v for k, v in row.items() if k not in ("code", "path")}
        wanted[row["code"]] = {**fields, "starts_at": start, "ends_at": end, "is_active": True}
    _check_stock(actor, wanted, zone)
    zone.raise_errors()
    plan_rows("rewards", Reward, actor, wanted, plan)


def export_rewards(actor: Actor) -> list[dict[str, Any]]:
    zone = ZoneInfo(actor.merchant.timezone)
    rows = []
    for reward in Reward.objects.filter(merchant=actor.merchant, is_active=True):
        row: dict[str, Any] = {"code": reward.code, "name": reward.name, "points": reward.points}
        if reward.cash:
            row["cash"] = reward.cash
        row["kind"] = reward.kind
        if reward.coupon:
            row["coupon"] = reward.coupon
        for key in ("stock", "per_member"):
            if getattr(reward, key) is not None:
                row[key] = getattr(reward, key)
        for key in ("starts_at", "ends_at"):
            if getattr(reward, key) is not None:
                row[key] = getattr(reward, key).astimezone(zone).isoformat()
        for key in ("description", "image"):
            if getattr(reward, key):
                row[key] = getattr(reward, key)
        rows.append(row)
    return rows


def register() -> None:
    from patron.program.services import register_section

    register_section("rewards", Rewards, plan_rewards, export_rewards)
