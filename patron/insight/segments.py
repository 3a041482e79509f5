"""Saved segments (F-29): who a filter selects for an actor, a masked sample, and the writes
(create, change, delete), each audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from patron.insight.filters import compile_filter, row_count_filter
from patron.insight.models import Segment
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.members.validation import mask_mobile
from patron.promotions.selectors import member_tier_code, with_tiers
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.services import audit

SAMPLE_SIZE = 10
NAME_MAX = 60


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[dict[str, Any]]


def segment_members(actor: Actor, node: Any, now: dt.datetime | None = None) -> QuerySet[Member]:
    """The actor's members (a store-bound manager: their store's) that the filter selects
    (`now`: the moment ages and days since are counted from; default now)."""
    return members_for(actor).filter(compile_filter(actor.merchant, node, now))


def count_members(actor: Actor, node: Any, now: dt.datetime | None = None) -> int:
    """How many of the actor's members the filter selects. Chain-wide, a filter only on
    insight scores or only on stats is counted on those rows alone (`row_count_filter`)."""
    if actor.store_bound is None:
        on_rows = row_count_filter(actor.merchant, node, now)
        if on_rows is not None:
            table, q = on_rows
            return table.objects.filter(merchant=actor.merchant).filter(q).count()
    return segment_members(actor, node, now).count()


def member_lifecycle(member: Member) -> str | None:
    insight = getattr(member, "insight", None)  # None when the member has no row yet
    return (insight.lifecycle or None) if insight is not None else None


def sample_row(member: Member) -> dict[str, Any]:
    """A member of a sample: enough to recognise them, the mobile always masked."""
    return {
        "id": member.pk,
        "card_no": member.card_no,
        "name": member.name,
        "mobile": mask_mobile(member.mobile),
        "tier": member_tier_code(member),
        "lifecycle": member_lifecycle(member),
    }


def sample(members: QuerySet[Member], size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """The newest members first (the member list's order, on its (merchant, joined_at) index)."""
    rows = with_tiers(members).select_related("insight").order_by("-joined_at", "-id")[:size]
    return [sample_row(m) for m in rows]


def preview(actor: Actor, node: Any) -> Preview:
    members = segment_members(actor, node)
    return Preview(count=count_members(actor, node), sample=sample(members))


def segments_for(actor: Actor) -> QuerySet[Segment]:
    return Segment.objects.filter(merchant=actor.merchant).select_related("created_by")


def segment_for(actor: Actor, segment_id: Any) -> Segment:
    try:
        segment_id = int(segment_id)
    except (TypeError, ValueError):
        raise NotFound("Segment not found") from None
    segment = segments_for(actor).filter(pk=segment_id).first()
    if segment is None:
        raise NotFound("Segment not found")
    return segment


def segment_by_name(actor: Actor, name: str) -> Segment:
    segment = segments_for(actor).filter(name=name.strip()).first()
    if segment is None:
        raise NotFound(_("No segment named '%s'.") % name)
    return segment


def count_segment(actor: Actor, segment: Segment) -> int:
    """The segment's size for this actor; kept on the segment when the actor sees every
    store (the list shows it without counting again)."""
    count = count_members(actor, segment.filter)
    if actor.store_bound is None:
        Segment.objects.filter(pk=segment.pk).update(last_count=count, counted_at=timezone.now())
        segment.last_count, segment.counted_at = count, timezone.now()
    return count


def clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed([FieldError("name", _("A name is required."))])
    name = name.strip()
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            [FieldError("name", _("At most %(n)d characters.") % {"n": NAME_MAX})]
        )
    return name


def duplicate_name(name: str) -> Conflict:
    return Conflict(
        _("A segment named '%s' already exists.") % name,
        "duplicate_segment",
        [FieldError("name", _("A segment with this name already exists."))],
    )


def checked(actor: Actor, name: Any, node: Any) -> tuple[str, int]:
    """The name cleaned and the filter's count for the actor; every error of both at once."""
    errors: list[FieldError] = []
    try:
        name = clean_name(name)
    except ValidationFailed as failed:
        errors += failed.errors
    try:
        count = count_members(actor, node)
    except ValidationFailed as failed:
        errors += failed.errors
    if errors:
        raise ValidationFailed(errors)
    return name, count


@transaction.atomic
def create_segment(actor: Actor, name: Any, node: Any) -> tuple[Segment, int]:
    name, count = checked(actor, name, node)
    if Segment.objects.filter(merchant=actor.merchant, name=name).exists():
        raise duplicate_name(name)
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                merchant=actor.merchant,
                name=name,
                filter=node,
                created_by=actor.user,
                last_count=count if actor.store_bound is None else None,
                counted_at=timezone.now() if actor.store_bound is None else None,
            )
    except IntegrityError:  # created by someone else meanwhile
        raise duplicate_name(name) from None
    audit(actor, AuditEntry.Action.CREATE, segment, {"name": [None, name], "filter": [None, node]})
    return segment, count


@transaction.atomic
def update_segment(actor: Actor, segment: Segment, name: Any, node: Any) -> tuple[Segment, int]:
    name, count = checked(actor, name, node)
    if Segment.objects.filter(merchant=actor.merchant, name=name).exclude(pk=segment.pk).exists():
        raise duplicate_name(name)
    changes = {}
    if name != segment.name:
        changes["name"] = [segment.name, name]
    if node != segment.filter:
        changes["filter"] = [segment.filter, node]
    segment.name, segment.filter = name, node
    if actor.store_bound is None:
        segment.last_count, segment.counted_at = count, timezone.now()
    segment.save()
    if changes:
        audit(actor, AuditEntry.Action.UPDATE, segment, changes)
    return segment, count


@transaction.atomic
def delete_segment(actor: Actor, segment: Segment) -> None:
    audit(
        actor,
        AuditEntry.Action.DELETE,
        segment,
        {"name": [segment.name, None], "filter": [segment.filter, None]},
    )
    segment.delete()


def resolve_for_export(actor: Actor, name: str) -> tuple[QuerySet[Member], str]:
    """members.exporting's segment resolver: the named segment's members for the actor."""
    segment = segment_by_name(actor, name)
    return segment_members(actor, segment.filter), segment.name
