"""Registrations the alliance part makes with the floors below: the till (and every member
lookup through members.hooks) knows an allied merchant's card.

At merchant B, a card number with the prefix of a merchant A that B has an active alliance with
names B's twin of that member (linked by an exchange, or the same mobile at B); when B knows no
such person, the lookup is refused with a message naming A (404 `alliance_member_unknown`), so
the cashier knows to move points or register the member first.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from patron.core.errors import DomainError
from patron.core.text import ascii_digits
from patron.members import hooks
from patron.members.models import Member
from patron.tenancy.models import Merchant


def identify_partner_card(merchant: Merchant, text: str) -> Member | None:
    """Identifier: a card number of an active alliance partner -> this merchant's twin."""
    from patron.network import alliance_selectors, alliance_services

    digits = ascii_digits(text.strip())
    if digits is None or len(digits) < 10:
        return None
    for alliance in alliance_selectors.active_partners(merchant.pk):
        partner = alliance_services.other_side(alliance, merchant)
        prefix = partner.card_prefix
        if len(digits) != len(prefix) + 9 or not digits.startswith(prefix):
            continue
        if Member.objects.filter(merchant=merchant, card_no=digits).exists():
            return None  # one of our own numbers after all (an imported card): not ours to say
        visitor = Member.objects.filter(merchant=partner, card_no=digits).first()
        twin = None if visitor is None else alliance_services.twin_at(visitor, merchant)
        if twin is None:
            raise DomainError(
                _(
                    "This is a card of %(partner)s, an alliance partner: the member has no "
                    "membership here yet. Move some of their points here or register them first."
                )
                % {"partner": partner.name},
                "alliance_member_unknown",
                404,
            )
        return twin
    return None


def register() -> None:
    from patron.members import profile
    from patron.network.alliance_views import member_panel

    hooks.add_identifier(identify_partner_card)
    profile.add_panel(profile.Panel("side", member_panel, order=30))
