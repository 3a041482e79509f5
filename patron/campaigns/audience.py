"""Who a campaign is for: a saved insight segment (`{"segment": id}`) or a filter in insight's
language (`{"filter": {...}}`, patron/insight/filters.py), over the merchant's active members.

A segment is resolved when the campaign runs, not when it is saved: a recurring campaign
reaches whoever is in the segment on each date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, ValidationFailed
from patron.insight.filters import compile_filter
from patron.insight.models import Segment
from patron.members.models import Member, MemberStatus
from patron.tenancy.models import Merchant


def _node(merchant: Merchant, audience: dict[str, Any]) -> Any:
    """The filter the audience stands for; ValidationFailed (paths under `audience`)."""
    if not isinstance(audience, dict) or len(audience) != 1:
        raise ValidationFailed([FieldError("audience", _("Give either a segment or a filter."))])
    if "segment" in audience:
        segment_id = audience["segment"]
        segment = None
        if isinstance(segment_id, int) and not isinstance(segment_id, bool):
            segment = Segment.objects.filter(merchant=merchant, pk=segment_id).first()
        if segment is None:
            raise ValidationFailed([FieldError("audience.segment", _("No such segment."))])
        return segment.filter
    if "filter" in audience:
        return audience["filter"]
    raise ValidationFailed([FieldError("audience", _("Give either a segment or a filter."))])


def members(
    merchant: Merchant, audience: dict[str, Any], now: dt.datetime | None = None
) -> QuerySet[Member]:
    """The audience's active members (ValidationFailed when the audience no longer resolves,
    e.g. its segment was deleted)."""
    node = _node(merchant, audience)
    try:
        where = compile_filter(merchant, node, now)
    except ValidationFailed as failed:
        raise ValidationFailed(
            [FieldError(f"audience.{e.field}", e.message) for e in failed.errors]
        ) from None
    return Member.objects.filter(merchant=merchant, status=MemberStatus.ACTIVE).filter(where)


def campaign_members(campaign: Any, now: dt.datetime | None = None) -> QuerySet[Member]:
    """Whom a campaign reaches: its audience (without one, a journey's: every active member);
    a store's own campaign only members whose home store it is (F-41)."""
    if campaign.audience:
        found = members(campaign.merchant, campaign.audience, now)
    else:
        found = Member.objects.filter(merchant=campaign.merchant, status=MemberStatus.ACTIVE)
    if campaign.owner_store_id:
        found = found.filter(store_id=campaign.owner_store_id)
    return found


def errors(merchant: Merchant, audience: Any) -> list[FieldError]:
    """What is wrong with an audience, [] when it resolves."""
    try:
        members(merchant, audience)
    except ValidationFailed as failed:
        return list(failed.errors)
    return []
