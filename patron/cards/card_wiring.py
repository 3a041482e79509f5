"""What the card part of cards registers with the apps below it (hooks, guards, profile facts
and panels, audit sentences, import columns), called once from CardsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards import audit, selectors, services
from patron.cards.models import CardStatus
from patron.core.errors import Conflict
from patron.core.text import ascii_digits
from patron.ledger import guards
from patron.members import hooks, profile
from patron.members.models import Member
from patron.tenancy.models import Merchant

REGISTRATION_KEYS = ("card_product", "physical_id", "payment_method")


def refuse_lost(merchant_id: int, member_id: int) -> None:
    """Spend guard: no stored value or points while a card of the member is reported lost."""
    if selectors.lost_cards(merchant_id, member_id):
        raise Conflict(
            _(
                "The member's card is reported lost: stored value and points are frozen"
                " until the card is replaced."
            ),
            "card_lost",
        )


def card_refusal(card: Any) -> Conflict | None:
    """Why a scanned card may not name its member (lost, replaced, closed), or None."""
    if card.status == CardStatus.LOST:
        when = timezone.localtime(card.lost_at).strftime("%Y-%m-%d %H:%M") if card.lost_at else ""
        return Conflict(
            _("Card %(card)s was reported lost %(when)s: it cannot be used until replaced.")
            % {"card": card.card_no, "when": when},
            "card_lost",
        )
    if card.status == CardStatus.REPLACED:
        # Names nothing else: whoever holds an old card learns no new number.
        return Conflict(_("This card was replaced and no longer works."), "card_replaced")
    if card.status == CardStatus.CLOSED:
        return Conflict(_("This card was refunded and closed."), "card_closed")
    return None


def identify(merchant: Merchant, text: str) -> Member | None:
    """Identifier: a physical card id or a card number (refused when lost or replaced)."""
    card = selectors.card_named(merchant, text)
    if card is not None:
        if (problem := card_refusal(card)) is not None:
            raise problem
        return card.member
    digits = ascii_digits(text.strip())
    # Numbers under a longer merchant prefix than sales' 10-digit rule knows.
    if digits is not None and (len(digits) > 11 or (len(digits) == 11 and digits[0] != "1")):
        return Member.objects.filter(merchant=merchant, card_no=digits).first()
    return None


def cards_fact(member: Member) -> list[dict[str, Any]]:
    from patron.cards.schemas import card_summary

    return [card_summary(card) for card in selectors.member_cards(member)]


def register() -> None:
    from patron.cards.views import cards_panel

    guards.add_spend_guard(refuse_lost)
    hooks.add_identifier(identify)
    hooks.add_registration_check(services.registration_errors, keys=REGISTRATION_KEYS)
    hooks.add_after_registration(services.issue_at_registration)
    profile.add_fact(profile.Fact("cards", cards_fact, in_lists=False))
    profile.add_panel(profile.Panel("main", cards_panel, order=5))
    audit.register()
