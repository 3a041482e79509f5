"""Reads of cards: a card by number or physical id, a member's cards, a card's history.

A member whose card has had nothing happen to it has no `Card` row: their `Member.card_no` is
shown as an active card without a product (an unsaved `Card`, `pk` None).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet, Sum

from patron.cards.models import Card, CardEvent, CardPayment, CardStatus
from patron.core.text import ascii_digits, nfkc
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

SEARCH_LIMIT = 50


def implicit_card(member: Member) -> Card:
    """The member's card number as a card, before anything happened to it."""
    return Card(
        merchant_id=member.merchant_id,
        member=member,
        card_no=member.card_no,
        status=CardStatus.ACTIVE,
        issued_at=member.joined_at,
    )


def cards_for(actor: Actor) -> QuerySet[Card]:
    """Card rows of members the actor may see (a store-bound role: its store's members)."""
    return Card.objects.filter(
        merchant=actor.merchant, member__in=members_for(actor).values("pk")
    ).select_related("member", "product", "replaced_by", "store")


def card_for_number(actor: Actor, card_no: str) -> Card | None:
    """The card with this number (a row, or a member's implicit card), or None."""
    text = normalised(card_no)
    if not text:
        return None
    card = cards_for(actor).filter(card_no=text).first()
    if card is not None:
        return card
    member = members_for(actor).filter(card_no=text).first()
    return implicit_card(member) if member is not None else None


def normalised(text: str | None) -> str:
    return re.sub(r"\s", "", nfkc(str(text or "")))[:64]


def member_cards(member: Member) -> list[Card]:
    """The member's cards, the one they hold first, then the older ones newest first."""
    rows = list(
        Card.objects.filter(member=member).select_related("product", "replaced_by", "store")
    )
    if not any(card.card_no == member.card_no for card in rows):
        rows.append(implicit_card(member))
    return sorted(
        rows, key=lambda card: (card.card_no != member.card_no, -card.issued_at.timestamp())
    )


def card_history(card: Card) -> QuerySet[CardEvent]:
    if card.pk is None:
        return CardEvent.objects.none()
    return CardEvent.objects.filter(card=card).select_related("user", "store")


def search(actor: Actor, query: str) -> list[Card]:
    """Cards by card number, physical id or the member's mobile (as a cashier types them)."""
    text = normalised(query)
    if not text:
        return []
    digits = ascii_digits(text)
    rows = list(cards_for(actor).filter(Q(card_no=text) | Q(physical_id=text))[:SEARCH_LIMIT])
    members = members_for(actor).filter(card_no=text)
    if digits is not None and len(digits) == 11:
        members = members_for(actor).filter(Q(card_no=text) | Q(mobile=digits))
    elif digits is not None and len(digits) >= 4:
        members = members_for(actor).filter(
            Q(card_no=text) | Q(mobile__startswith=digits) | Q(mobile__endswith=digits)
        )
    for member in members[:SEARCH_LIMIT]:
        for card in member_cards(member):
            if not any(card.card_no == found.card_no for found in rows):
                rows.append(card)
    return rows[:SEARCH_LIMIT]


def lost_cards(merchant_id: int, member_id: int) -> bool:
    """Whether the member has a card reported lost and not yet replaced (frozen)."""
    return Card.objects.filter(
        merchant_id=merchant_id, member_id=member_id, status=CardStatus.LOST
    ).exists()


def card_named(merchant: Merchant, text: str) -> Card | None:
    """The card row a scanned or typed number or physical id names, in any merchant store."""
    text = normalised(text)
    if not text:
        return None
    return (
        Card.objects.filter(merchant=merchant)
        .filter(Q(card_no=text) | Q(physical_id=text))
        .select_related("member")
        .first()
    )


def replace_fee_paid(card: Card) -> int:
    """The replacement (or exchange) fee taken when `card` was issued in place of another."""
    total = CardPayment.objects.filter(card=card, kind=CardPayment.Kind.REPLACE_FEE).aggregate(
        total=Sum("amount")
    )["total"]
    return total or 0
