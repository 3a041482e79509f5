"""Reads for members: scoped, searchable, and presented with personal data masked by role."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.counting import RowCount, row_count
from patron.core.dates import local_day
from patron.core.errors import NotFound
from patron.core.text import ascii_digits
from patron.members import profile
from patron.members.models import ImportBatch, Member
from patron.members.pinyin import pinyin_query
from patron.members.validation import mask_id_number, mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import active_stores, scoped


def members_for(actor: Actor) -> QuerySet[Member]:
    return scoped(Member.objects.select_related("store"), actor)


def member_for(actor: Actor, member_id: Any) -> Member:
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        raise NotFound("Member not found") from None
    member = profile.prepared(members_for(actor)).filter(pk=member_id).first()
    if member is None:
        raise NotFound("Member not found")
    return member


def member_or_404(actor: Actor, member_id: Any) -> Member:
    """`member_for` for console pages: another store's or merchant's member is a plain 404."""
    try:
        return member_for(actor, member_id)
    except NotFound:
        raise Http404(_("Member not found")) from None


# A typed query splits into words at spaces and where digits meet letters ("zs 1380", "zs1380").
QUERY_TERMS = re.compile(r"[0-9０-９]+|[^\s0-9０-９]+")


def term_condition(term: str) -> Q:
    """What one word of a search matches: digits the mobile (start or end) or the card number;
    letters the name or its pinyin (`wang` finds 王, `zs` 张三); anything else the name."""
    digits = ascii_digits(term)
    if digits is not None:
        return (
            Q(mobile__startswith=digits)
            | Q(card_no__startswith=digits)
            | Q(mobile__endswith=digits)
        )
    condition = Q(name__icontains=term)
    if (letters := pinyin_query(term)) is not None:
        condition |= Q(name_pinyin__contains=letters)
    return condition


def query_condition(q: str) -> Q:
    """Every word must match (`zs 8000`: a 张三 whose mobile ends in 8000); the whole query may
    also be a referral code (letters and digits together) or a full name with spaces."""
    if (digits := ascii_digits(q.replace(" ", ""))) is not None:
        return term_condition(digits)  # a mobile typed in groups: "138 0013 8000"
    terms = QUERY_TERMS.findall(q)
    condition = Q()
    for term in terms:
        condition &= term_condition(term)
    if len(terms) > 1:
        condition |= Q(name__icontains=q)
        if (letters := pinyin_query(q)) is not None:  # "zhang san"
            condition |= Q(name_pinyin__contains=letters)
    return condition | Q(referral_code=q.replace(" ", "").upper())


def search_members(
    actor: Actor,
    q: str = "",
    *,
    mobile: str = "",
    card_no: str = "",
    store: str = "",
    gender: str = "",
    source_channel: str = "",
    tag: str = "",
    status: str = "",
    joined_from: dt.date | None = None,
    joined_to: dt.date | None = None,
) -> QuerySet[Member]:
    """Search by mobile / name / card number, then narrow with filters."""
    members = profile.prepared(members_for(actor))
    if q := q.strip():
        members = members.filter(query_condition(q))
    if mobile:
        members = members.filter(mobile=mobile.strip())
    if card_no:
        members = members.filter(card_no=card_no.strip())
    if store:
        members = members.filter(store__code=store)
    if gender:
        members = members.filter(gender=gender)
    if source_channel:
        members = members.filter(source_channel=source_channel)
    if tag:
        members = members.filter(tags__name=tag)
    if status:
        members = members.filter(status=status)
    if joined_from:
        members = members.filter(joined_at__date__gte=joined_from)
    if joined_to:
        members = members.filter(joined_at__date__lte=joined_to)
    return members


def shown_mobile(actor: Actor, member: Member) -> str:
    return member.mobile if actor.sees_personal_data else mask_mobile(member.mobile)


def shown_id_number(actor: Actor, member: Member) -> str:
    return member.id_number if actor.sees_personal_data else mask_id_number(member.id_number)


def present_member(actor: Actor, member: Member, *, listing: bool = False) -> dict[str, Any]:
    """The member as the API shows it to this actor, with what other apps add (`profile`);
    `listing` leaves out what would cost a query per member of a page."""
    return {
        "id": member.pk,
        "card_no": member.card_no,
        "mobile": shown_mobile(actor, member),
        "mobile_masked": mask_mobile(member.mobile),
        "name": member.name,
        "gender": member.gender,
        "birthday": member.birthday,
        "lunar_birthday": member.lunar_birthday or None,
        "id_number": shown_id_number(actor, member) or None,
        "email": member.email or None,
        "region": member.region,
        "address": member.address,
        "occupation": member.occupation,
        "income_band": member.income_band or None,
        "tags": sorted(t.name for t in member.tags.all()),
        "consent": {
            "sms": member.consent_sms,
            "wechat": member.consent_wechat,
            "email": member.consent_email,
        },
        "source_channel": member.source_channel,
        "store": member.store.code if member.store_id else None,
        "referral_code": member.referral_code,
        "status": member.status,
        "custom": member.custom,
        "joined_at": member.joined_at,
        **profile.facts(member, listing=listing),
    }


def local_today(actor: Actor) -> tuple[dt.datetime, dt.datetime]:
    """Start of today and of this month in the merchant's time zone."""
    now = timezone.now().astimezone(zoneinfo.ZoneInfo(actor.merchant.timezone))
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def member_figures(actor: Actor) -> dict[str, Any]:
    """Home page figures: totals and new members today / this month, per store."""
    day, month = local_today(actor)
    members = members_for(actor)
    per_store = members.values("store").annotate(
        total=Count("id"),
        today=Count("id", filter=Q(joined_at__gte=day)),
        month=Count("id", filter=Q(joined_at__gte=month)),
    )
    by_store = {row["store"]: row for row in per_store}
    bound = actor.store_bound
    stores = (
        Store.objects.filter(pk=bound.pk)
        if bound
        # A deactivated store still shows while it has members, so the rows add up.
        else Store.objects.filter(
            Q(is_active=True) | Q(pk__in=[pk for pk in by_store if pk is not None]),
            merchant=actor.merchant,
        )
    )
    rows = []
    for store in stores.order_by("code"):
        row = by_store.get(store.pk, {})
        rows.append(
            {
                "store": store,
                "total": row.get("total", 0),
                "today": row.get("today", 0),
                "month": row.get("month", 0),
            }
        )
    unassigned = by_store.get(None)
    totals = {
        "total": sum(r.get("total", 0) for r in by_store.values()),
        "today": sum(r.get("today", 0) for r in by_store.values()),
        "month": sum(r.get("month", 0) for r in by_store.values()),
    }
    return {"stores": rows, "unassigned": unassigned, "totals": totals}


def members_in_all(actor: Actor) -> RowCount:
    """The home's "N in all": exact up to 1,000 members, past that PostgreSQL's estimate
    (member_figures counts every member per store: 0.2 s at a million, docs/scale.md)."""
    return row_count(scoped(Member.objects.all(), actor))


def daily_new_members(actor: Actor, since: dt.datetime, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Members who joined per home store and local day (in `zone`) from `since`: rows of
    {store, day, new_members} (store None: registered at HQ)."""
    joined = (
        members_for(actor)
        .filter(joined_at__gte=since)
        .annotate(day=local_day("joined_at", zone, since))
        .values("store_id", "day")
        .annotate(new_members=Count("id"))
        .order_by()
    )
    return [
        {"store": row["store_id"], "day": row["day"], "new_members": row["new_members"]}
        for row in joined
    ]


def registered_mobiles(actor: Actor) -> set[str]:
    """The mobiles of all the merchant's members, whatever store the actor is bound to."""
    # Merchant-wide even for store-bound staff: a mobile is unique per merchant.
    members = scoped(Member.objects.all(), actor, store_field=None)
    return set(members.values_list("mobile", flat=True))


def import_batches_for(actor: Actor) -> QuerySet[ImportBatch]:
    """Imports the actor may look at: HQ sees the merchant's, a store manager their own."""
    batches = scoped(
        ImportBatch.objects.select_related("default_store", "created_by"), actor, store_field=None
    )
    if actor.store_bound is not None:
        batches = batches.filter(created_by=actor.user)
    return batches


def import_batch_for(actor: Actor, batch_id: Any) -> ImportBatch:
    batch = import_batches_for(actor).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Import not found."))
    return batch


def recent_imports(actor: Actor, count: int) -> QuerySet[ImportBatch]:
    """The latest uploads the actor may look at (previews and CLI runs, not confirmations)."""
    return import_batches_for(actor).filter(source__isnull=True)[:count]


def import_confirmation(preview: ImportBatch) -> ImportBatch | None:
    """The import that confirmed this dry run, if any (the first, should there be more)."""
    return preview.confirmations.order_by("id").first()


def import_store_choices(actor: Actor) -> QuerySet[Store]:
    """The stores an import may default to: the active ones, or a store manager's own only."""
    bound = actor.store_bound
    if bound is None:
        return active_stores(actor.merchant)
    return scoped(Store.objects.filter(pk=bound.pk), actor, store_field=None)
