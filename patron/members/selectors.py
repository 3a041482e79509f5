"""Reads for members: scoped, searchable, and presented with personal data masked by role."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.bulk import values_among
from patron.core.counting import RowCount, row_count
from patron.core.dates import end_of_day, local_day, start_of_day
from patron.core.errors import DomainError, NotFound
from patron.core.keyset import Key, KeysetPage, keyset_page, tiered_page
from patron.members import hooks, profile, search
from patron.members.models import ImportBatch, ImportStatus, Member
from patron.members.validation import mask_id_number, mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import active_stores, scoped

# Shorter text is a name or part of a number, never a card's physical id or a member code.
IDENTIFIER_MIN_LENGTH = 4


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


def identified(actor: Actor, q: str) -> Member | None:
    """The member a physical card id (or another app's identifier) names, for search: a lost
    card or a stale code names nobody here (the till says why), never an error."""
    if len(q) < IDENTIFIER_MIN_LENGTH or any(c.isspace() for c in q):
        return None
    try:
        return hooks.identify(actor.merchant, q)
    except DomainError:
        return None


def matching(actor: Actor, members: QuerySet[Member], q: str) -> QuerySet[Member]:
    """Members `q` finds, ranked (`search_rank`: exact, then prefix, then the rest) and in
    that order, the newest first within a rank."""
    condition = search.query_condition(q)
    named = identified(actor, q)
    if named is not None:
        condition |= Q(pk=named.pk)
    ranked = members.filter(condition).annotate(
        search_rank=search.rank(q, also_exact=None if named is None else named.pk)
    )
    return ranked.order_by(*search.RANKED_ORDERING)


def member_ordering(q: str) -> tuple[str, ...]:
    """The order `search_members` answers in: ranked with a query, else the newest first."""
    return search.RANKED_ORDERING if q.strip() else search.LIST_ORDERING


def ranked_tiers(actor: Actor, unsearched: QuerySet[Member], q: str) -> list[QuerySet[Member]]:
    """The members `q` finds among `unsearched` (the filters without the query), one queryset
    per rank (`search.tiers`), for `member_page`."""
    named = identified(actor, q)
    conditions = search.tiers(q, also_exact=None if named is None else named.pk)
    return [unsearched.filter(condition) for condition in conditions]


def lean(members: QuerySet[Member], fields: Sequence[str]) -> QuerySet:
    return members.select_related(None).prefetch_related(None).values(*fields)


def member_page(
    members: QuerySet[Member],
    ordering: Sequence[str],
    size: int,
    cursor: str | None = None,
    *,
    tiers: list[QuerySet[Member]] | None = None,
    whole: bool = True,
) -> KeysetPage:
    """A keyset page of `members` whose rows are loaded whole only for the page; a search
    passes its `ranked_tiers` and is then read rank by rank (`core.keyset.tiered_page`).

    The ordering is read from the member table alone (ids and ordering values): sorting the
    whole rows made the database join every fact's table (store, tier, insight …) for each of
    10,000 members named 王 before keeping 50 (docs/scale.md). With `whole=False` the page
    holds the lean rows ({id, ordering values}) for the caller to load."""
    if tiers is not None:
        ordering = search.LIST_ORDERING
        lean_tiers = [lean(tier, ["id", "joined_at"]) for tier in tiers]
        page = tiered_page(lean_tiers, ordering, size, cursor)
    else:
        fields = dict.fromkeys(["id", *(Key.parse(term).name for term in ordering)])
        page = keyset_page(lean(members, list(fields)), ordering, size, cursor)
    if not whole:
        return page
    return KeysetPage(
        in_order(members, [row["id"] for row in page.items]),
        page.next_cursor,
        page.previous_cursor,
    )


def member_count(members: QuerySet[Member]) -> RowCount:
    """How many members `members` holds (estimated past 1,000 on PostgreSQL), counted on the
    member table alone: the facts' joins and subqueries change no count."""
    return row_count(members.select_related(None).prefetch_related(None).values("id"))


def in_order(members: QuerySet[Member], ids: list[int]) -> list[Member]:
    by_id = {member.pk: member for member in members.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


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
    """Search by mobile / name / card number / physical card id, then narrow with filters;
    with `q`, ranked best match first (`patron.members.search`)."""
    members = profile.prepared(members_for(actor))
    if q := q.strip():
        members = matching(actor, members, q)
    if mobile:
        members = members.filter(mobile=mobile.strip())
    if card_no:
        members = members.filter(card_no=card_no.strip())
    if store:
        # By the store's id, not a join on its code: the planner then knows from the column's
        # statistics how many members a store has (a fair estimated count, the right index).
        stores = Store.objects.filter(merchant=actor.merchant, code=store)
        store_id = stores.values_list("pk", flat=True).first()
        members = members.none() if store_id is None else members.filter(store_id=store_id)
    if gender:
        members = members.filter(gender=gender)
    if source_channel:
        members = members.filter(source_channel=source_channel)
    if tag:
        members = members.filter(tags__name=tag)
    if status:
        members = members.filter(status=status)
    # Ranges of the merchant's days, not joined_at::date: a function of the column uses no index.
    zone = zoneinfo.ZoneInfo(actor.merchant.timezone)
    if joined_from:
        members = members.filter(joined_at__gte=start_of_day(joined_from, zone))
    if joined_to:
        members = members.filter(joined_at__lte=end_of_day(joined_to, zone))
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


def registered_among(actor: Actor, mobiles: Sequence[str]) -> set[str]:
    """Which of these mobiles are the merchant's members' already (an import's chunk): looked
    up on the unique (merchant, mobile) index instead of loading every member's mobile."""
    members = scoped(Member.objects.all(), actor, store_field=None)
    return values_among(members, "mobile", mobiles)


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
    """The import that confirmed this dry run, if any (the first, should there be more); one
    that stopped part way does not count: the file can be confirmed again to finish it."""
    return preview.confirmations.exclude(status=ImportStatus.FAILED).order_by("id").first()


def import_store_choices(actor: Actor) -> QuerySet[Store]:
    """The stores an import may default to: the active ones, or a store manager's own only."""
    bound = actor.store_bound
    if bound is None:
        return active_stores(actor.merchant)
    return scoped(Store.objects.filter(pk=bound.pk), actor, store_field=None)
