"""Every write to tiers, promotions, coupon templates and coupons.

Issuing takes the template row's lock first (a conditional UPDATE of `issued_count` that also
enforces the stock), so concurrent issues of one template run one after the other and the
per-member limit is counted on committed rows. Consuming a coupon at the till is one
conditional UPDATE: of ten sales racing for one coupon exactly one wins, without any
read-then-write window.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, DomainError, FieldError, NotFound, PermissionDenied
from patron.events import types as events
from patron.events.services import emit, emit_many
from patron.members.models import Member, MemberStatus
from patron.promotions import selectors
from patron.promotions.codes import new_coupon_code
from patron.promotions.models import Coupon, CouponStatus, CouponTemplate, Tier, TierChange
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role
from patron.tenancy.services import audit, audit_entry

TIER_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER}
END_COUPON_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER}


# --- program rows ----------------------------------------------------------------------------


def create_program_row(model: type[Model], merchant: Merchant, code: str, fields: dict) -> Model:
    """A tier, promotion or coupon template the program file adds (recorded by its revision)."""
    return model.objects.create(merchant=merchant, code=code, **fields)


def update_program_row(row: Model, changed: dict[str, Any]) -> None:
    """Change, end (is_active=False) or reactivate a program row; history stays in place."""
    for name, value in changed.items():
        setattr(row, name, value)
    row.save(update_fields=[*changed, "updated_at"])


# --- issuing ---------------------------------------------------------------------------------


class CouponTemplateNotFound(DomainError):
    def __init__(self, code: str) -> None:
        detail = _("No active coupon template '%s'.") % code
        super().__init__(
            detail=detail,
            code="coupon_template_not_found",
            status=422,
            errors=[FieldError("template", detail)],
        )


def validity(template: CouponTemplate, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When a coupon issued now may be used: the template's window, or from now for
    `valid_days` whole local days after today (it expires at the merchant's midnight, like a
    rolling points lot: a coupon issued at 23:59 does not lose a day)."""
    if template.valid_days is None:
        return template.valid_from, template.valid_until
    zone = ZoneInfo(template.merchant.timezone)
    boundary = now.astimezone(zone).date() + dt.timedelta(days=template.valid_days + 1)
    end = dt.datetime(boundary.year, boundary.month, boundary.day, tzinfo=zone)
    return now, end.astimezone(dt.UTC)


def active_template(merchant: Merchant, code: str) -> CouponTemplate:
    template = (
        CouponTemplate.objects.select_related("merchant")
        .filter(merchant=merchant, code=code, is_active=True, paused=False)
        .first()
    )
    if template is None:
        raise CouponTemplateNotFound(code)
    return template


def _replayed(actor: Actor, member: Member, template_code: str, key: str) -> Coupon | None:
    coupon = (
        Coupon.objects.select_related("template")
        .filter(merchant=actor.merchant, issue_key=key)
        .first()
    )
    if coupon is None:
        return None
    if coupon.member_id != member.pk or coupon.template.code != template_code:
        raise Conflict(
            _("This idempotency key was already used to issue another coupon."),
            "idempotency_conflict",
        )
    coupon.replayed = True
    return coupon


def _take_from_stock(template: CouponTemplate) -> None:
    """Count one more issued coupon, if the stock allows: one UPDATE, which also locks the
    template row until the transaction ends."""
    taken = (
        CouponTemplate.objects.filter(pk=template.pk)
        .filter(Q(stock__isnull=True) | Q(issued_count__lt=F("stock")))
        .update(issued_count=F("issued_count") + 1)
    )
    if not taken:
        raise Conflict(
            _("Coupon template '%s' has no stock left.") % template.code, "coupon_out_of_stock"
        )


def _check_member_limit(template: CouponTemplate, member: Member) -> None:
    if template.per_member_limit is None:
        return
    issued = Coupon.objects.filter(template=template, member=member).count()
    if issued >= template.per_member_limit:
        raise Conflict(
            _("This member already has %(count)d coupon(s) of '%(template)s', the limit.")
            % {"count": issued, "template": template.code},
            "coupon_limit_reached",
        )


def _create_coupon(actor: Actor, template: CouponTemplate, member: Member, key: str | None):
    now = timezone.now()
    valid_from, valid_until = validity(template, now)
    if valid_until <= now:
        raise Conflict(
            _("Coupons of '%s' are no longer valid: its validity window has ended.")
            % template.code,
            "coupon_template_expired",
        )
    while True:
        try:
            # A savepoint: a (very unlikely) code collision must not break the transaction.
            with transaction.atomic():
                return Coupon.objects.create(
                    merchant=actor.merchant,
                    template=template,
                    member=member,
                    code=new_coupon_code(),
                    issued_at=now,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    issue_key=key,
                    issued_by=actor.user,
                    issued_by_api_key=actor.api_key,
                    channel=actor.channel,
                )
        except IntegrityError:
            if (
                key is not None
                and Coupon.objects.filter(merchant=actor.merchant, issue_key=key).exists()
            ):
                raise
            continue


def issue_coupon(
    actor: Actor, member: Member, template_code: str, *, key: str | None = None
) -> Coupon:
    """Give `member` a coupon of an active template. With `key`, the same key gives the same
    coupon back (marked `replayed`) instead of a second one."""
    if member.merchant_id != actor.merchant.pk:
        raise NotFound("Member not found")
    with transaction.atomic():
        if key is not None:
            existing = _replayed(actor, member, template_code, key)
            if existing is not None:
                return existing
        if member.status != MemberStatus.ACTIVE:
            raise Conflict(
                _("This member is frozen or closed: no coupon can be issued."), "member_frozen"
            )
        template = active_template(actor.merchant, template_code)
        _take_from_stock(template)
        _check_member_limit(template, member)
        coupon = _create_coupon(actor, template, member, key)
        audit(
            actor,
            AuditEntry.Action.CREATE,
            coupon,
            {
                "member": [None, member.card_no],
                "template": [None, template.code],
                "valid_until": [None, coupon.valid_until],
            },
            label=f"coupon {template.code} {member.card_no}",
        )
        emit(
            member.merchant_id,
            events.COUPON_ISSUED,
            {
                "coupon_id": coupon.pk,
                "code": coupon.code,
                "template": template.code,
                "member_id": member.pk,
                "card_no": member.card_no,
                "valid_until": coupon.valid_until,
                "at": coupon.issued_at,
            },
            member_id=member.pk,
        )
    coupon.replayed = False
    return coupon


# --- using, returning, ending ----------------------------------------------------------------


def consume_coupon(coupon_id: int, *, sale_ref: str, at: dt.datetime) -> bool:
    """Mark a coupon used by a sale; True when this call used it, False when it was not
    available (already used by someone else, ended). Run it inside the sale's transaction."""
    updated = Coupon.objects.filter(pk=coupon_id, status=CouponStatus.AVAILABLE).update(
        status=CouponStatus.USED, used_at=at, used_in=sale_ref[:64]
    )
    return updated == 1


def return_coupon(coupon_id: int) -> None:
    """A refunded sale gives its coupon back: used -> available again (validity unchanged)."""
    Coupon.objects.filter(pk=coupon_id, status=CouponStatus.USED).update(
        status=CouponStatus.AVAILABLE, used_at=None, used_in=""
    )


def end_coupon(actor: Actor, coupon: Coupon, *, reason: str) -> Coupon:
    """Withdraw an unused coupon (issued by mistake, or to the wrong member)."""
    if coupon.merchant_id != actor.merchant.pk:
        raise NotFound("Coupon not found")
    if actor.staff is not None and actor.role not in END_COUPON_ROLES:
        raise PermissionDenied(_("Only HQ admins and store managers may withdraw coupons."))
    if not reason.strip():
        raise DomainError(
            detail=_("A reason is required."),
            code="validation_error",
            status=422,
            errors=[FieldError("reason", _("A reason is required."))],
        )
    with transaction.atomic():
        ended = Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.AVAILABLE).update(
            status=CouponStatus.ENDED
        )
        if not ended:
            raise Conflict(_("Only an unused coupon can be withdrawn."), "coupon_not_available")
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            coupon,
            {"status": [CouponStatus.AVAILABLE, CouponStatus.ENDED], "reason": [None, reason]},
            label=f"coupon {coupon.code}",
        )
    coupon.status = CouponStatus.ENDED
    return coupon


# --- tiers -----------------------------------------------------------------------------------


def set_member_tier(actor: Actor, member: Member, tier_code: str, *, reason: str = "") -> Member:
    """Staff put a member on a tier by hand. The rank-0 tier is stored as no tier (members
    without one are on rank 0, wherever the program puts it later)."""
    if member.merchant_id != actor.merchant.pk:
        raise NotFound("Member not found")
    if actor.staff is not None and actor.role not in TIER_ROLES:
        raise PermissionDenied(_("Only HQ admins and store managers may change a member's tier."))
    tier = Tier.objects.filter(merchant=actor.merchant, code=tier_code, is_active=True).first()
    if tier is None:
        detail = _("No active tier '%s'.") % tier_code
        raise DomainError(
            detail=detail,
            code="tier_not_found",
            status=422,
            errors=[FieldError("tier", detail)],
        )
    return change_member_tier(
        actor, member, tier, TierChange.Reason.MANUAL, note=reason.strip(), detail={}
    )


def change_member_tier(
    actor: Actor,
    member: Member,
    tier: Tier | None,
    reason: str,
    *,
    detail: dict[str, Any] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Member:
    """Put the member on `tier` (None or the rank-0 tier: no tier of their own) and record
    why (`TierChange.Reason`, with `detail` of what moved it): every tier change goes here.

    Nothing is written when the member already holds the tier. The caller's instance shows
    the new tier; the member row is locked, so two reviews of one member never both move it.
    """
    new_tier = None if tier is None or tier.rank == 0 else tier
    with transaction.atomic():
        # Locks the member row only: PostgreSQL refuses FOR UPDATE across the nullable tier join.
        locked = (
            Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member.pk)
        )
        if locked.tier_id != (new_tier.pk if new_tier else None):
            old = selectors.member_tier(locked)
            now = at or timezone.now()
            shown = tier if tier is not None else selectors.base_tier(member.merchant_id)
            Member.objects.filter(pk=member.pk).update(tier=new_tier, updated_at=timezone.now())
            TierChange.objects.create(
                merchant_id=member.merchant_id,
                member_id=member.pk,
                from_tier=old,
                to_tier=shown,
                reason=reason,
                detail=detail or {},
                note=note[:200],
                user=actor.user,
                created_at=now,
            )
            audit(
                actor,
                AuditEntry.Action.UPDATE,
                member,
                {
                    "tier": [old.code if old else None, tier.code if tier else None],
                    "reason": [None, note or str(TierChange.Reason(reason).label)],
                },
                label=str(member),
            )
            emit(
                member.merchant_id,
                events.TIER_CHANGED,
                tier_changed_data(locked.pk, locked.card_no, old, shown, reason),
                member_id=member.pk,
                at=now,
            )
    member.tier = new_tier  # the caller's instance shows the new tier too
    return member


def tier_changed_data(
    member_id: int, card_no: str, old: Tier | None, new: Tier | None, reason: str
) -> dict[str, Any]:
    """The `tier.changed` payload: tier codes (None: no tier at all), up or down by rank,
    and the `TierChange.Reason` that moved it (manual, upgrade, downgrade, paid, ...)."""
    before, after = (old.rank if old else 0), (new.rank if new else 0)
    return {
        "member_id": member_id,
        "card_no": card_no,
        "from": old.code if old else None,
        "to": new.code if new else None,
        "direction": "up" if after > before else "down" if after < before else "same",
        "reason": str(reason),
    }


@dataclass(frozen=True)
class TierMove:
    """One member's move for `move_members`: the stored tier it was decided on and where to."""

    member_id: int
    held_tier_id: int | None
    tier: Tier | None
    reason: str
    detail: dict[str, Any]


def move_members(actor: Actor, moves: Sequence[TierMove], *, chunk: int = 2000) -> int:
    """`change_member_tier` for many members at once (the nightly review may move tens of
    thousands): one UPDATE per chunk of a (held, target) pair, TierChange and audit rows in
    bulk. A member whose stored tier changed since the caller read it (a sale upgraded them
    meanwhile) is left as they are. Returns how many members moved."""
    merchant = actor.merchant
    tiers = {tier.pk: tier for tier in Tier.objects.filter(merchant=merchant)}
    base = selectors.base_tier(merchant)
    groups: dict[tuple[int | None, int | None], list[TierMove]] = defaultdict(list)
    for move in moves:
        groups[(move.held_tier_id, move.tier.pk if move.tier else None)].append(move)
    moved = 0
    for (held_id, target_id), group in groups.items():
        target = tiers.get(target_id) if target_id else None
        stored = None if target is None or target.rank == 0 else target
        if (stored.pk if stored else None) == held_id:
            continue
        held = tiers.get(held_id) if held_id else None
        shown_before = held if held is not None and held.is_active else base
        for at in range(0, len(group), chunk):
            moved += _move_chunk(actor, group[at : at + chunk], held_id, stored, shown_before)
    return moved


def _move_chunk(
    actor: Actor,
    group: Sequence[TierMove],
    held_id: int | None,
    stored: Tier | None,
    shown_before: Tier | None,
) -> int:
    held = {"tier_id": held_id} if held_id else {"tier__isnull": True}
    by_member = {move.member_id: move for move in group}
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Member.objects.select_for_update(of=("self",))
            .filter(merchant=actor.merchant, pk__in=list(by_member), **held)
            .values_list("pk", "name", "card_no")
        )
        ids = [pk for pk, _name, _card in rows]
        Member.objects.filter(pk__in=ids).update(tier=stored, updated_at=now)
        shown_after = stored or selectors.base_tier(actor.merchant)
        TierChange.objects.bulk_create(
            TierChange(
                merchant=actor.merchant,
                member_id=pk,
                from_tier=shown_before,
                to_tier=shown_after,
                reason=by_member[pk].reason,
                detail=by_member[pk].detail,
                user=actor.user,
                created_at=now,
            )
            for pk in ids
        )
        AuditEntry.objects.bulk_create(
            audit_entry(
                actor,
                AuditEntry.Action.UPDATE,
                Member(pk=pk, name=name, card_no=card_no),
                {
                    "tier": [
                        shown_before.code if shown_before else None,
                        shown_after.code if shown_after else None,
                    ],
                    "reason": [None, str(TierChange.Reason(by_member[pk].reason).label)],
                },
                label=name or card_no,
            )
            for pk, name, card_no in rows
        )
        emit_many(
            actor.merchant.pk,
            events.TIER_CHANGED,
            (
                (
                    pk,
                    tier_changed_data(pk, card_no, shown_before, shown_after, by_member[pk].reason),
                )
                for pk, _name, card_no in rows
            ),
            at=now,
        )
    return len(ids)
