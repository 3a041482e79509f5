"""The `card_products` and `recruitment` program sections (API.md §2, §7).

A card product names the tier it starts a member on; the tiers are checked when the file is
applied (they may come in the same file), not by the schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field

from patron.cards.models import CardProduct, RecruitmentPolicy
from patron.core.errors import FieldError, ValidationFailed
from patron.program.fields import MAX_FEN, Bool, Code, Fen, Name, Shaped, Whole
from patron.program.schema import CodedList, ProgramModel
from patron.program.services import Plan, register_section
from patron.promotions.models import Tier
from patron.promotions.program import plan_rows
from patron.tenancy.actor import Actor

COLOUR = Shaped(re.compile(r"#[0-9A-Fa-f]{6}"), gettext_lazy("A colour as #RRGGBB."))
Days = Annotated[int, Whole(1, 36500)]


class RefundRule(ProgramModel):
    """What a card refund gives back: the fee or not, the bonus forfeited (the default) or kept
    as principal; for paid memberships the unused days pro rata or nothing."""

    fee: Bool = False
    bonus: Literal["forfeit", "keep"] = "forfeit"
    pro_rata: Bool = True
    allowed: Bool = True


class FirstDeposit(ProgramModel):
    """A first top-up of at least `min` puts the member on `tier`."""

    min: Annotated[int, Whole(1, MAX_FEN)]
    tier: Code


class CardProductRow(ProgramModel):
    """A card a member is issued (or, with `paid_days`, a paid membership they buy)."""

    code: Code
    name: Name
    fee: Fen = 0
    tier: Code = None
    validity_days: Days = None
    physical: Bool = False
    face_colour: Annotated[str, COLOUR] = None
    face_image: Annotated[str, Field(max_length=255)] = None
    fee_waived_by_topup: Annotated[int, Whole(1, MAX_FEN)] = None
    first_deposit: FirstDeposit = None
    replace_fee: Fen = 0
    replace_wait_days: Annotated[int, Whole(0, 365)] = 0
    refund: RefundRule = None
    paid_days: Days = None

    def cleaned(self, position: int) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "fee": self.fee or 0,
            "tier_code": self.tier or "",
            "validity_days": self.validity_days,
            "physical": bool(self.physical),
            "face_colour": (self.face_colour or "").upper(),
            "face_image": self.face_image or "",
            "fee_waived_by_topup": self.fee_waived_by_topup,
            "first_deposit_min": self.first_deposit.min if self.first_deposit else None,
            "first_deposit_tier": self.first_deposit.tier if self.first_deposit else "",
            "replace_fee": self.replace_fee or 0,
            "replace_wait_days": self.replace_wait_days or 0,
            "refund": (self.refund or RefundRule()).model_dump(),
            "paid_days": self.paid_days,
            "position": position,
        }


class CardProducts(CodedList[CardProductRow]):
    """The merchant's card products; one left out is ended (its cards keep working)."""

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned(index) for index, row in enumerate(self.root)]


def _check_tiers(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    """The tiers named must exist when the plan runs: in the file (planned before this
    section) or already active."""
    known = set(
        Tier.objects.filter(merchant=actor.merchant, is_active=True).values_list("code", flat=True)
    )
    known |= {c.key for c in plan.changes if c.section == "tiers" and c.op != "end"}
    ended = {c.key for c in plan.changes if c.section == "tiers" and c.op == "end"}
    errors = []
    for index, row in enumerate(rows):
        for field, path in (("tier_code", "tier"), ("first_deposit_tier", "first_deposit.tier")):
            code = row[field]
            if code and (code not in known or code in ended):
                errors.append(
                    FieldError(f"card_products[{index}].{path}", _("Unknown tier %s.") % code)
                )
    if errors:
        raise ValidationFailed(errors)


def plan_card_products(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    _check_tiers(actor, rows, plan)
    wanted = {
        row["code"]: {**{k: v for k, v in row.items() if k != "code"}, "is_active": True}
        for row in rows
    }
    plan_rows("card_products", CardProduct, actor, wanted, plan)


def export_card_products(actor: Actor) -> list[dict[str, Any]]:
    rows = []
    for product in CardProduct.objects.filter(merchant=actor.merchant, is_active=True):
        row: dict[str, Any] = {"code": product.code, "name": product.name, "fee": product.fee}
        if product.tier_code:
            row["tier"] = product.tier_code
        for key in ("validity_days", "fee_waived_by_topup", "paid_days"):
            if getattr(product, key) is not None:
                row[key] = getattr(product, key)
        if product.physical:
            row["physical"] = True
        for key in ("face_colour", "face_image"):
            if getattr(product, key):
                row[key] = getattr(product, key)
        if product.first_deposit_min is not None:
            row["first_deposit"] = {
                "min": product.first_deposit_min,
                "tier": product.first_deposit_tier,
            }
        if product.replace_fee:
            row["replace_fee"] = product.replace_fee
        if product.replace_wait_days:
            row["replace_wait_days"] = product.replace_wait_days
        if product.refund and product.refund != RefundRule().model_dump():
            row["refund"] = dict(product.refund)
        rows.append(row)
    return rows


# --- recruitment -----------------------------------------------------------------------------


class Recruitment(ProgramModel):
    """Who may join; absent or empty: anyone (F-02)."""

    min_purchase: Annotated[int, Whole(1, MAX_FEN)] = None
    min_spend_total: Annotated[int, Whole(1, MAX_FEN)] = None
    min_age: Annotated[int, Whole(1, 120)] = None

    def cleaned(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in RECRUITMENT_KEYS}


RECRUITMENT_KEYS = ("min_purchase", "min_spend_total", "min_age")


def recruitment_policy(merchant) -> RecruitmentPolicy:
    found = RecruitmentPolicy.objects.filter(merchant=merchant).first()
    return found or RecruitmentPolicy(merchant=merchant)


def export_recruitment(actor: Actor) -> dict[str, Any]:
    policy = recruitment_policy(actor.merchant)
    return {
        key: getattr(policy, key) for key in RECRUITMENT_KEYS if getattr(policy, key) is not None
    }


def plan_recruitment(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    policy = recruitment_policy(actor.merchant)
    current = {key: getattr(policy, key) for key in RECRUITMENT_KEYS}
    plan.settings(
        "recruitment",
        current,
        cleaned,
        lambda: RecruitmentPolicy.objects.update_or_create(
            merchant=actor.merchant, defaults=cleaned
        ),
        RECRUITMENT_KEYS,
    )


def register() -> None:
    register_section("card_products", CardProducts, plan_card_products, export_card_products)
    register_section("recruitment", Recruitment, plan_recruitment, export_recruitment)
