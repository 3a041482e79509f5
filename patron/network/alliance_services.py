"""Alliances between merchants (F-42, API.md §12): invite, accept, decline, pause, resume, end;
members moving points to the partner; the monthly clearing statement both sides see.

An exchange is one database transaction across both merchants' books: the points leave the
member at the source merchant for its `alliance` clearing account, and arrive at the member's
twin at the destination from that merchant's `alliance` account (patron/ledger/clearing.py).
The twin is the person with the same mobile there, registered with the exchange when there is
none (the exchange request is the member's consent, recorded on the link).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from patron.core import months
from patron.core.errors import Conflict, DomainError, FieldError, PermissionDenied, ValidationFailed
from patron.engine import alliances as engine
from patron.ledger import clearing
from patron.ledger.services import Context, ensure_active
from patron.members.models import Channel, Member
from patron.members.services import register_member
from patron.network.models import Alliance, AllianceExchange, AllianceStep, MemberTwin
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Store
from patron.tenancy.services import audit

Status = Alliance.Status
SLUG_SHAPE = re.compile(r"[-a-zA-Z0-9_]{1,50}")
MAX_RATE_SIDE = 1_000_000
MAX_POINTS = 10**9
MONTH_PATTERN = months.MONTH_PATTERN
EXCHANGE_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER}

# action: (statuses it may start from, status it leads to, who may do it)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "accept": ((Status.INVITED,), Status.ACTIVE, "partner"),
    "decline": ((Status.INVITED,), Status.DECLINED, "either"),
    "pause": ((Status.ACTIVE,), Status.PAUSED, "either"),
    "resume": ((Status.PAUSED,), Status.ACTIVE, "either"),
    "end": ((Status.ACTIVE, Status.PAUSED), Status.ENDED, "either"),
}
ACTIONS = tuple(TRANSITIONS)


def ensure_hq(actor: Actor) -> None:
    if not actor.is_hq_admin:
        raise PermissionDenied(_("Only HQ admins may manage alliances."))


def pair_of(one: int, other: int) -> str:
    low, high = sorted((one, other))
    return f"{low}-{high}"


def _whole(raw: Any, field: str, maximum: int, *, zero: bool = False) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < (0 if zero else 1):
        message = _("A whole number of 0 or more.") if zero else _("A whole number above 0.")
        raise ValidationFailed([FieldError(field, message)])
    if raw > maximum:
        raise ValidationFailed([FieldError(field, _("At most %d.") % maximum)])
    return raw


def _step(actor: Actor, alliance: Alliance, action: str) -> None:
    AllianceStep.objects.create(
        alliance=alliance,
        action=action,
        merchant=actor.merchant,
        user=actor.user,
        api_key=actor.api_key,
        at=timezone.now(),
    )


@transaction.atomic
def propose(
    actor: Actor,
    partner: Any,
    points: Any,
    partner_points: Any,
    value_points: Any = 100,
    value_amount: Any = 100,
) -> Alliance:
    """Invite the merchant with slug `partner`: `points` of ours = `partner_points` of theirs,
    `value_amount` fen for every `value_points` points issued when clearing."""
    ensure_hq(actor)
    errors: list[FieldError] = []
    other = None
    if not isinstance(partner, str) or not SLUG_SHAPE.fullmatch(partner.strip()):
        errors.append(FieldError("partner", _("The partner's merchant slug is required.")))
    else:
        other = Merchant.objects.filter(slug=partner.strip()).first()
    figures = {}
    for field, raw, maximum, zero in (
        ("rate.points", points, MAX_RATE_SIDE, False),
        ("rate.partner_points", partner_points, MAX_RATE_SIDE, False),
        ("value.points", value_points, MAX_RATE_SIDE, False),
        ("value.amount", value_amount, MAX_RATE_SIDE, True),
    ):
        try:
            figures[field] = _whole(raw, field, maximum, zero=zero)
        except ValidationFailed as problem:
            errors += problem.errors
    if errors:
        raise ValidationFailed(errors)
    if other is None or other.pk == actor.merchant.pk:
        # What is stored, not the request's shape: its own code (the slug may be well formed).
        message = (
            _("No merchant with this slug.")
            if other is None
            else _("A merchant cannot ally with itself.")
        )
        code = "unknown_partner" if other is None else "alliance_with_self"
        raise DomainError(message, code, 422, [FieldError("partner", message)])
    alliance = Alliance(
        proposer=actor.merchant,
        partner=other,
        rate_points=figures["rate.points"],
        rate_partner_points=figures["rate.partner_points"],
        value_points=figures["value.points"],
        value_amount=figures["value.amount"],
        live_pair=pair_of(actor.merchant.pk, other.pk),
    )
    try:
        with transaction.atomic():
            alliance.save()
    except IntegrityError:
        raise Conflict(
            _("There is already an alliance with %s: end it before proposing another.")
            % other.name,
            "alliance_exists",
        ) from None
    _step(actor, alliance, "invite")
    audit(
        actor,
        AuditEntry.Action.CREATE,
        alliance,
        {
            "partner": [None, other.slug],
            "rate": [None, f"{alliance.rate_points}:{alliance.rate_partner_points}"],
            "value": [None, f"{alliance.value_points}:{alliance.value_amount}"],
        },
        label=_("Alliance with %s") % other.name,
    )
    return alliance


@transaction.atomic
def act(actor: Actor, alliance: Alliance, action: str) -> Alliance:
    """Move the alliance along (accept, decline, pause, resume, end). Doing again what was just
    done answers the alliance as it is; anything else out of order is 409 `alliance_status`."""
    ensure_hq(actor)
    if action not in TRANSITIONS:
        raise DomainError(_("Unknown action."), "not_found", 404)
    sources, target, who = TRANSITIONS[action]
    alliance = Alliance.objects.select_for_update().get(pk=alliance.pk)
    if who == "partner" and actor.merchant.pk != alliance.partner_id:
        raise PermissionDenied(_("Only the invited merchant may accept an alliance."))
    if alliance.status == target:
        return alliance
    if alliance.status not in sources:
        raise Conflict(
            _("This alliance is %(status)s: it cannot be %(action)s now.")
            % {"status": alliance.get_status_display(), "action": action_label(action)},
            "alliance_status",
        )
    before = alliance.status
    alliance.status = target
    if target not in Alliance.LIVE:
        alliance.live_pair = ""
    alliance.save(update_fields=["status", "live_pair", "updated_at"])
    _step(actor, alliance, action)
    audit(
        actor,
        AuditEntry.Action.UPDATE,
        alliance,
        {"status": [before, target]},
        label=_("Alliance with %s") % other_side(alliance, actor.merchant).name,
    )
    return alliance


def action_label(action: str) -> str:
    return {
        "accept": pgettext("alliance action", "accepted"),
        "decline": pgettext("alliance action", "declined"),
        "pause": pgettext("alliance action", "paused"),
        "resume": pgettext("alliance action", "resumed"),
        "end": pgettext("alliance action", "ended"),
    }[action]


def other_side(alliance: Alliance, merchant: Merchant) -> Merchant:
    return alliance.partner if merchant.pk == alliance.proposer_id else alliance.proposer


def direction_for(alliance: Alliance, merchant: Merchant) -> str:
    return engine.TO_PARTNER if merchant.pk == alliance.proposer_id else engine.TO_PROPOSER


def rate_of(alliance: Alliance) -> engine.Rate:
    return engine.Rate(alliance.rate_points, alliance.rate_partner_points)


def value_of(alliance: Alliance) -> engine.PointValue:
    return engine.PointValue(alliance.value_points, alliance.value_amount)


@dataclass(frozen=True)
class Preview:
    """What an exchange would do: points out here, points in there, worth `amount` fen."""

    points_out: int
    points_in: int
    amount: int
    twin: Member | None  # the member already known there, None: one will be registered


def preview(actor: Actor, alliance: Alliance, member: Member, points: Any) -> Preview:
    """Check an exchange without writing anything (the counter shows it before confirming)."""
    if alliance.status != Status.ACTIVE:
        raise Conflict(
            _("This alliance is %s: no points can be exchanged.") % alliance.get_status_display(),
            "alliance_not_active",
        )
    if actor.staff is not None and actor.role not in EXCHANGE_ROLES:
        raise PermissionDenied(_("Only HQ admins, store managers and cashiers move points."))
    points = _whole(points, "points", MAX_POINTS)
    try:
        points_in = engine.convert(
            rate_of(alliance), direction_for(alliance, actor.merchant), points
        )
    except engine.NotWhole as refused:
        nearest = [str(n) for n in (refused.below, refused.above) if n]
        message = _(
            "%(points)d points do not convert to a whole number at this rate: try %(nearest)s."
        ) % {"points": points, "nearest": _(" or ").join(nearest)}
        raise DomainError(
            message, "points_not_whole", 422, [FieldError("points", message)]
        ) from None
    partner = other_side(alliance, actor.merchant)
    return Preview(
        points, points_in, engine.value_of(value_of(alliance), points_in), twin_at(member, partner)
    )


def twin_at(member: Member, partner: Merchant) -> Member | None:
    """The member's twin at `partner`: linked by an earlier exchange, else found by mobile."""
    link = MemberTwin.objects.filter(member=member, twin_merchant=partner).select_related("twin")
    if (found := link.first()) is not None:
        return found.twin
    back = MemberTwin.objects.filter(twin=member, merchant=partner).select_related("member")
    if (found := back.first()) is not None:
        return found.member
    return Member.objects.filter(merchant=partner, mobile=member.mobile).first()


def _twin_for_exchange(
    actor: Actor, alliance: Alliance, member: Member, partner: Merchant
) -> tuple[Member, bool]:
    """(the twin at `partner`, whether this exchange registered them) and the link recorded."""
    twin, created = twin_at(member, partner), False
    if twin is None:
        there = Actor(merchant=partner, ip=actor.ip, channel=actor.channel)
        try:
            with transaction.atomic():
                twin = register_member(
                    there, {"mobile": member.mobile, "name": member.name}, channel=Channel.ALLIANCE
                )
                created = True
        except Conflict as problem:  # registered a moment ago by another exchange
            if problem.code != "duplicate_mobile":
                raise
            twin = Member.objects.get(merchant=partner, mobile=member.mobile)
    # get_or_create: a concurrent exchange may link them a moment before this one.
    MemberTwin.objects.get_or_create(
        member=member,
        twin_merchant=partner,
        defaults={
            "merchant_id": member.merchant_id,
            "twin": twin,
            "created_twin": created,
            "consented_at": timezone.now(),
            "alliance": alliance,
        },
    )
    return twin, created


def _replayed(actor: Actor, key: str, member: Member, points: Any) -> AllianceExchange | None:
    found = AllianceExchange.objects.filter(source=actor.merchant, idempotency_key=key).first()
    if found is None:
        return None
    if found.member_id != member.pk or found.points_out != points:
        raise Conflict(
            _("This idempotency key was already used for another movement."),
            "idempotency_conflict",
        )
    found.replayed = True
    return found


def exchange(
    actor: Actor,
    alliance: Alliance,
    member: Member,
    points: Any,
    *,
    key: str,
    store: Store | None = None,
) -> AllianceExchange:
    """Move `points` of the caller's member to their twin at the partner, at the rate.

    422 `insufficient_points` when the member holds fewer, 409 `alliance_not_active` unless the
    alliance is active, 422 `points_not_whole` for a number that does not convert; nothing is
    written then. The same `key` again answers the exchange already made.
    """
    if member.merchant_id != actor.merchant.pk:
        raise DomainError(_("Member not found"), "not_found", 404)
    if (found := _replayed(actor, key, member, points)) is not None:
        return found
    with transaction.atomic():
        # Read fresh, not locked: exchanges of one alliance run side by side (an exchange
        # already under way when the alliance is paused still completes).
        alliance = Alliance.objects.select_related("proposer", "partner").get(pk=alliance.pk)
        checked = preview(actor, alliance, member, points)
        ensure_active(member)
        partner = other_side(alliance, actor.merchant)
        twin, created = _twin_for_exchange(actor, alliance, member, partner)
        ensure_active(twin)
        clearing.lock_points(member, twin)
        now = timezone.now()
        reason = _("Alliance with %s") % partner.name
        out_txn = clearing.points_out(
            actor,
            member,
            checked.points_out,
            key=f"alliance:{key}:out",
            context=Context(store=store, reason=reason, source="alliance", occurred_at=now),
        )
        if getattr(out_txn, "replayed", False):  # a concurrent request with this key won
            return AllianceExchange.objects.get(source=actor.merchant, idempotency_key=key)
        there = Actor(merchant=partner, ip=actor.ip, channel=actor.channel)
        in_txn = clearing.points_in(
            there,
            twin,
            checked.points_in,
            key=f"alliance:in:{out_txn.pk}",
            context=Context(
                reason=_("Alliance with %s") % actor.merchant.name,
                source="alliance",
                source_ref=str(out_txn.pk),
                occurred_at=now,
            ),
        )
        made = AllianceExchange.objects.create(
            alliance=alliance,
            direction=direction_for(alliance, actor.merchant),
            source=actor.merchant,
            destination=partner,
            member=member,
            member_at_destination=twin,
            points_out=checked.points_out,
            points_in=checked.points_in,
            amount=checked.amount,
            out_transaction=out_txn,
            in_transaction=in_txn,
            idempotency_key=key,
            store=store,
            user=actor.user,
            created_at=now,
        )
    made.replayed, made.created_twin = False, created
    return made


# --- the monthly clearing statement ----------------------------------------------------------


def month_bounds(alliance: Alliance, month: Any) -> tuple[str, dt.datetime, dt.datetime]:
    """("YYYY-MM", start, end) of a month in the proposer's zone: both sides count the same
    exchanges in the same month."""
    text = months.parse_month(str(month or "").strip())
    start, end = months.month_bounds(text, alliance.proposer.timezone)
    return text, start, end


@dataclass(frozen=True)
class StatementView:
    month: str
    alliance: Alliance
    figures: engine.Statement
    merchants: dict[str, Merchant]  # by side (engine.PROPOSER / PARTNER)
    exchanges: list[AllianceExchange]


def statement(alliance: Alliance, month: Any) -> StatementView:
    text, start, end = month_bounds(alliance, month)
    exchanges = list(
        AllianceExchange.objects.filter(
            alliance=alliance, created_at__gte=start, created_at__lt=end
        ).order_by("created_at", "pk")
    )
    figures = engine.statement(
        engine.Exchange(e.direction, e.points_out, e.points_in, e.amount) for e in exchanges
    )
    merchants = {engine.PROPOSER: alliance.proposer, engine.PARTNER: alliance.partner}
    return StatementView(text, alliance, figures, merchants, exchanges)


def statement_answer(view: StatementView) -> dict[str, Any]:
    """The statement as API.md §12 answers it (merchants by slug)."""
    slug = {side: merchant.slug for side, merchant in view.merchants.items()}
    figures = view.figures
    return {
        "month": view.month,
        "rows": [
            {
                "from": slug[row.source],
                "to": slug[row.destination],
                "points_out": row.points_out,
                "points_in": row.points_in,
                "amount": row.amount,
                "exchanges": row.exchanges,
            }
            for row in figures.rows
        ],
        "net": {slug[side]: amount for side, amount in figures.net.items()},
        "payer": slug[figures.payer] if figures.payer else None,
        "payee": slug[figures.payee] if figures.payee else None,
        "amount": figures.amount,
        "value": {"points": view.alliance.value_points, "amount": view.alliance.value_amount},
    }
