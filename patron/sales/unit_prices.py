"""Member prices of an agreement unit (协议单位, F-02) at checkout.

A member under an active, unexpired unit pays per category the better of the tier's member
price and the unit's (`AgreementUnit.discount`: percent of price by category, "*" for every
category). The unit's price goes to the engine as the line's `member_price`, which it already
weighs against the tier's discount (lower wins), so quotes and sales show it like a tier price.
A member without a unit costs no statement here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping

from patron.engine.money import div_round_half_up
from patron.members.models import AgreementUnit, Member

ALL_CATEGORIES = "*"


def unit_discount(member: Member | None, at: dt.datetime) -> Mapping[str, int] | None:
    """The unit's {category: percent} when its prices apply to this member at `at`."""
    if member is None or member.agreement_unit_id is None:
        return None
    row = (
        AgreementUnit.objects.filter(pk=member.agreement_unit_id, is_active=True)
        .order_by()
        .values_list("discount", "valid_until", "merchant__timezone")
        .first()
    )
    if row is None:
        return None
    discount, valid_until, zone = row
    if valid_until is not None and at.astimezone(zoneinfo.ZoneInfo(zone)).date() > valid_until:
        return None
    return discount or None


def member_price(
    discount: Mapping[str, int] | None, category: str, unit_price: int, given: int | None
) -> int | None:
    """The line's member price with the unit's percent for its category (or "*")."""
    if not discount:
        return given
    percent = discount.get(category, discount.get(ALL_CATEGORIES))
    if percent is None:
        return given
    price = div_round_half_up(unit_price * int(percent), 100)
    return price if given is None else min(price, given)
