"""The two programs a replay compares, as plain values (`replay.Rules`): the merchant's
current one, and a draft applied in a transaction that is rolled back, so the draft's sections
replace the current ones exactly as `program apply` would and nothing is written."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from patron.cards import tiers as card_tiers
from patron.ledger.services import policy_for
from patron.program import services as program
from patron.promotions import selectors as promotions
from patron.promotions.models import CouponTemplate
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.whatif import replay


def current_rules(merchant: Merchant) -> replay.Rules:
    """The program as the database holds it now (read afresh, not from the till's cache)."""
    promotions.forget_program(merchant.pk)
    engine = promotions.engine_program(merchant)
    redeem = policy_for(merchant).points_policy().get("redeem_cash") or {}
    return replay.Rules(
        program=engine,
        tiers=tuple(card_tiers.merchant_rules(merchant).engine),
        templates=_templates(merchant),
        redeem_points=int(redeem.get("points") or 0),
        redeem_value=int(redeem.get("value") or 0),
    )


def _templates(merchant: Merchant) -> dict[str, Any]:
    """Every coupon template by code, the program's version first (a coupon issued from a
    template the program has since ended is still priced by its rules)."""
    found = {}
    rows = CouponTemplate.objects.filter(merchant=merchant).order_by("is_active", "id")
    for template in rows:
        found[template.code] = promotions.engine_promotion_of_template(template)
    return found


def draft_rules(actor: Actor, document: dict[str, Any]) -> tuple[replay.Rules, list]:
    """The draft's rules and the changes `program apply` would make. A draft `program apply`
    refuses raises the same ValidationFailed, with every error."""
    merchant = actor.merchant
    try:
        with transaction.atomic():
            changes = program.apply_program(actor, document)
            rules = current_rules(merchant)
            transaction.set_rollback(True)
    finally:
        promotions.forget_program(merchant.pk)
    return rules, changes
