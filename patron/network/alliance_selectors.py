"""Reads of alliances: a merchant sees the alliances it proposed and the ones it was invited
to, and nothing of any other pair of merchants."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from patron.core.errors import NotFound
from patron.core.text import INT64_MAX
from patron.members.models import Member
from patron.network.models import Alliance, AllianceExchange, MemberTwin
from patron.tenancy.actor import Actor


def alliances_for(actor: Actor) -> QuerySet[Alliance]:
    merchant = actor.merchant.pk
    return Alliance.objects.filter(Q(proposer_id=merchant) | Q(partner_id=merchant)).select_related(
        "proposer", "partner"
    )


def alliance_for(actor: Actor, alliance_id: object) -> Alliance:
    """The alliance if this merchant is one of its two sides, else 404."""
    try:
        pk = int(alliance_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotFound("Alliance not found") from None
    if not 0 < pk <= INT64_MAX:  # names nothing (and would overflow the column)
        raise NotFound("Alliance not found")
    found = alliances_for(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound("Alliance not found")
    return found


def active_partners(merchant_id: int) -> QuerySet[Alliance]:
    """Active alliances of a merchant (either side)."""
    return Alliance.objects.filter(
        Q(proposer_id=merchant_id) | Q(partner_id=merchant_id), status=Alliance.Status.ACTIVE
    ).select_related("proposer", "partner")


def recent_exchanges(actor: Actor, alliance: Alliance) -> QuerySet[AllianceExchange]:
    """Exchanges of this alliance, both ways (what each side's members moved)."""
    exchanges = AllianceExchange.objects.filter(alliance=alliance)
    return exchanges.select_related("source", "destination", "member", "member_at_destination")


def member_exchanges(member: Member) -> QuerySet[AllianceExchange]:
    """Points the member moved to a partner or received from one, newest first."""
    return (
        AllianceExchange.objects.filter(Q(member=member) | Q(member_at_destination=member))
        .select_related("source", "destination")
        .order_by("-pk")
    )


def member_twins(member: Member) -> dict[int, Member]:
    """The member's twin at each partner (by the partner merchant's id)."""
    mine = MemberTwin.objects.filter(member=member).select_related("twin")
    theirs = MemberTwin.objects.filter(twin=member).select_related("member")
    return {t.twin_merchant_id: t.twin for t in mine} | {t.merchant_id: t.member for t in theirs}
