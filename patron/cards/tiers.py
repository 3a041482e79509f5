"""Tiers that move (F-10, F-11): the figures the rules look at, the upgrade right after a
sale, top-up or purchase, the nightly review, the birthday gift and the progress shown.

The rules themselves are `patron.engine.tiers` (pure); here are the reads (`facts`: one
GROUP BY over sales, one over refunds and one over the ledger for a whole merchant, or the
same for one member) and the writes, each through `promotions.services.change_member_tier`.
How each figure is counted and the rolling window: docs/tiers.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards.models import CardProduct, Membership, TierStanding
from patron.core.errors import DomainError, NotFound, ValidationFailed
from patron.engine import tiers as rules
from patron.ledger import services as ledger
from patron.ledger.models import Asset, Entry, Transaction
from patron.members.models import Member, MemberStatus
from patron.program import services as program
from patron.promotions import editing
from patron.promotions import selectors as promotion_selectors
from patron.promotions import services as promotions
from patron.promotions.models import Tier, TierChange
from patron.sales.models import MemberStats, Refund, Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

log = logging.getLogger(__name__)

IMPORTED_CHANNEL = "import"  # Sale.channel of imported history (patron.insight.history)
BIRTHDAY_SOURCE = "birthday"  # ledger source of birthday points (not counted as earned)
BATCH = 2000
# Ledger entries that are tier figures `points_12m` / `points_total`: points earned, less their
# reversals on refunds; birthday gifts are not counted.
EARNED_POINTS = (
    Q(asset=Asset.POINTS)
    & (
        Q(transaction__kind=Transaction.Kind.EARN)
        | Q(
            transaction__kind=Transaction.Kind.REVERSAL,
            transaction__reverses__kind=Transaction.Kind.EARN,
        )
    )
    & ~Q(transaction__source=BIRTHDAY_SOURCE)
)


# --- the merchant's rules --------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The merchant's active tiers as rows and as the engine's rules."""

    tiers: tuple[Tier, ...]

    @property
    def engine(self) -> list[rules.TierRule]:
        return [rule_of(tier) for tier in self.tiers]

    def by_code(self, code: str | None) -> Tier | None:
        return next((tier for tier in self.tiers if tier.code == code), None)

    def by_id(self, pk: int | None) -> Tier | None:
        return next((tier for tier in self.tiers if tier.pk == pk), None)

    def current(self, tier_id: int | None) -> Tier | None:
        """The member's tier while active, else the rank-0 tier."""
        return self.by_id(tier_id) or self.base

    @property
    def base(self) -> Tier | None:
        return next((tier for tier in self.tiers if tier.rank == 0), None)

    def row(self, rule: rules.TierRule | None) -> Tier | None:
        return self.by_code(rule.code) if rule is not None else None


# The rules as the last sale of each merchant saw them, under the promotions cache's program
# key (validated by that sale's pricing): a sale reads no tier row of its own.
_sale_rules: dict[int, tuple[tuple, Rules]] = {}


def sale_rules(merchant_id: int) -> Rules:
    key = promotion_selectors.cached_program_key(merchant_id)
    if key is None:
        return merchant_rules(merchant_id)
    cached = _sale_rules.get(merchant_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = merchant_rules(merchant_id)
    _sale_rules[merchant_id] = (key, found)
    return found


def rule_of(tier: Tier) -> rules.TierRule:
    return rules.TierRule(
        code=tier.code,
        rank=tier.rank,
        upgrade_when=dict(tier.upgrade_when or {}),
        keep_when=dict(tier.keep_when or {}),
        grace_days=tier.grace_days,
    )


def merchant_rules(merchant: Merchant | int) -> Rules:
    found = Tier.objects.filter(merchant=merchant, is_active=True).order_by("rank", "code")
    return Rules(tuple(found))


# --- the figures -----------------------------------------------------------------------------


def zone_of(merchant: Merchant) -> ZoneInfo:
    return ZoneInfo(merchant.timezone)


def window(merchant: Merchant, at: dt.datetime) -> dt.datetime:
    return rules.window_start(at, zone_of(merchant))


def _in_window(start: dt.datetime, path: str = "occurred_at") -> Q:
    return Q(**{f"{path}__gte": start})


def _sum_if(condition: Q, value: str) -> Sum:
    return Sum(Case(When(condition, then=value), default=Value(0), output_field=IntegerField()))


def facts(
    merchant: Merchant, at: dt.datetime | None = None, member_ids: Iterable[int] | None = None
) -> dict[int, dict[str, int]]:
    """{member id: {key: figure}} for every member with a sale or a ledger movement up to
    `at` (all of the merchant's, or `member_ids`): set-based, one query per source."""
    at = at or timezone.now()
    start = window(merchant, at)
    ids = list(member_ids) if member_ids is not None else None
    found: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(rules.KEYS, 0))

    # History brought in by `patron import sales` (channel "import") earns no tier.
    sales = Sale.objects.filter(
        merchant=merchant, member__isnull=False, occurred_at__lte=at
    ).exclude(channel=IMPORTED_CHANNEL)
    if ids is not None:
        sales = sales.filter(member_id__in=ids)
    counted = ~Q(status=Sale.Status.REFUNDED)
    for row in sales.values("member_id").annotate(
        spend_total=Sum("total"),
        spend_12m=_sum_if(_in_window(start), "total"),
        visits_12m=Count("pk", filter=_in_window(start) & counted),
        single_sale=Max("total", filter=_in_window(start) & counted),
    ):
        figures = found[row["member_id"]]
        for key in ("spend_total", "spend_12m", "visits_12m", "single_sale"):
            figures[key] = int(row[key] or 0)

    # Refunds count against the sale they return (its date decides the window).
    refunds = Refund.objects.filter(
        merchant=merchant, sale__member__isnull=False, created_at__lte=at
    )
    if ids is not None:
        refunds = refunds.filter(sale__member_id__in=ids)
    for row in refunds.values("sale__member_id").annotate(
        back=Sum("amount"), back_12m=_sum_if(_in_window(start, "sale__occurred_at"), "amount")
    ):
        figures = found[row["sale__member_id"]]
        figures["spend_total"] -= int(row["back"] or 0)
        figures["spend_12m"] -= int(row["back_12m"] or 0)

    earned = EARNED_POINTS
    topup = Q(asset=Asset.PRINCIPAL, transaction__kind=Transaction.Kind.TOPUP)
    entries = Entry.objects.filter(
        earned | topup, transaction__merchant=merchant, member__isnull=False, occurred_at__lte=at
    )
    if ids is not None:
        entries = entries.filter(member_id__in=ids)
    for row in entries.values("member_id").annotate(
        points_total=_sum_if(earned, "amount"),
        points_12m=_sum_if(earned & _in_window(start), "amount"),
        single_topup=Max("amount", filter=topup & _in_window(start)),
    ):
        figures = found[row["member_id"]]
        for key in ("points_total", "points_12m", "single_topup"):
            figures[key] = int(row[key] or 0)
    return dict(found)


def member_facts(member: Member, at: dt.datetime | None = None) -> dict[str, int]:
    found = facts(member.merchant, at, [member.pk])
    return found.get(member.pk, dict.fromkeys(rules.KEYS, 0))


def paid_floors(merchant: Merchant, at: dt.datetime, rules_: Rules) -> dict[int, int]:
    """{member id: rank of their best active paid membership}."""
    floors: dict[int, int] = {}
    active = Membership.objects.filter(
        merchant=merchant, status=Membership.Status.ACTIVE, valid_from__lte=at, valid_until__gt=at
    ).values_list("member_id", "tier_code")
    for member_id, code in active:
        tier = rules_.by_code(code)
        if tier is not None:
            floors[member_id] = max(floors.get(member_id, 0), tier.rank)
    return floors


def earned_tier(member: Member, at: dt.datetime | None = None) -> Tier | None:
    """The tier the rules give the member now by their figures (never below rank 0; None
    when the merchant has no tiers). A paid membership's end returns the member here."""
    found = merchant_rules(member.merchant_id)
    rule, _met = rules.earned(found.engine, member_facts(member, at))
    return found.row(rule) or found.base


# --- right after a sale, top-up or purchase --------------------------------------------------


def on_activity(actor: Actor, member: Member, kind: str, detail: Mapping[str, Any]) -> None:
    """Tiers move right after the qualifying sale, top-up or purchase (F-10). A refund never
    moves a member down here: that is the nightly review's, with keep_when and its grace."""
    if kind not in ("sale", "topup", "membership"):
        return
    found = sale_rules(member.merchant_id) if kind == "sale" else merchant_rules(member.merchant_id)
    if len(found.tiers) < 2:
        return
    current = found.current(member.tier_id)
    current_rank = current.rank if current else 0
    engine = found.engine
    if kind == "topup":
        first_deposit(actor, member, found, detail)  # sets member.tier when it moves them
        current = found.current(member.tier_id)
        current_rank = current.rank if current else 0
    elif kind == "sale":
        # The sale path stays cheap: no rule above the member's tier, or running totals too
        # low for any of them (most members are nowhere near the next tier), and that is all.
        if not any(rule.rank > current_rank and rule.upgrade_when for rule in engine):
            return
        if not rules.could_reach(engine, current_rank, _sale_bounds(member)):
            return
    up = rules.upgrade(engine, current_rank, member_facts(member))
    if up is not None:
        promotions.change_member_tier(
            actor, member, found.row(up[0]), TierChange.Reason.UPGRADE, detail=dict(up[1])
        )


def _sale_bounds(member: Member) -> dict[str, int]:
    """Upper bounds of the figures a sale can move, from the running totals (one row):
    lifetime spend bounds the 12-month spend and any single sale; a sale moves no top-up."""
    stats = MemberStats.objects.filter(member_id=member.pk).values("total_spend", "visits").first()
    spend = stats["total_spend"] if stats else 0
    visits = stats["visits"] if stats else 0
    return {
        "spend_12m": spend,
        "spend_total": spend,
        "single_sale": spend,
        "visits_12m": visits,
        "single_topup": 0,
    }


def first_deposit(actor: Actor, member: Member, found: Rules, detail: Mapping[str, Any]) -> None:
    """A card product's first deposit: the member's first top-up of at least
    `first_deposit_min` puts them on `first_deposit_tier`, when that is higher."""
    amount = int(detail.get("amount") or 0)
    products = CardProduct.objects.filter(
        cards__member=member, first_deposit_min__isnull=False, first_deposit_min__lte=amount
    ).exclude(first_deposit_tier="")
    best: Tier | None = None
    minimum = 0
    for product in products.distinct():
        tier = found.by_code(product.first_deposit_tier)
        if tier is not None and (best is None or tier.rank > best.rank):
            best, minimum = tier, product.first_deposit_min
    current = found.current(member.tier_id)
    if best is None or best.rank <= (current.rank if current else 0):
        return
    txn = detail.get("transaction")
    earlier = Entry.objects.filter(
        member=member,
        asset=Asset.PRINCIPAL,
        transaction__kind=Transaction.Kind.TOPUP,
        amount__gte=minimum,
    )
    if txn is not None:
        earlier = earlier.exclude(transaction_id=txn.pk)
    if earlier.exists():
        return  # not the first deposit of that size
    promotions.change_member_tier(
        actor, member, best, TierChange.Reason.FIRST_DEPOSIT, detail={"first_deposit": amount}
    )


# --- the nightly review ----------------------------------------------------------------------


@dataclass
class ReviewResult:
    members: int = 0
    upgraded: int = 0
    downgraded: int = 0
    grace_started: int = 0
    grace_cleared: int = 0
    moves: Counter = field(default_factory=Counter)  # (from code, to code) -> members


def review(merchant: Merchant, as_of: dt.datetime | None = None) -> ReviewResult:
    """Every member of the merchant against the rules as of `as_of` (now): upgrades,
    grace periods started or cleared, and downgrades of exactly one rank after grace.
    Idempotent: a second run the same night changes nothing more."""
    as_of = as_of or timezone.now()
    found = merchant_rules(merchant)
    result = ReviewResult()
    if len(found.tiers) < 2:
        return result
    actor = Actor.system(merchant)
    engine = found.engine
    figures = facts(merchant, as_of)
    floors = paid_floors(merchant, as_of, found)
    standings = dict(
        TierStanding.objects.filter(merchant=merchant).values_list("member_id", "below_since")
    )
    empty = dict.fromkeys(rules.KEYS, 0)
    starts: list[int] = []
    clears: list[int] = []
    moves: list[tuple[int, int | None, rules.Decision]] = []
    members = Member.objects.filter(merchant=merchant).exclude(status=MemberStatus.CLOSED)
    for member_id, tier_id in members.values_list("pk", "tier_id").iterator(chunk_size=BATCH):
        result.members += 1
        current = found.current(tier_id)
        decision = rules.review(
            engine,
            rule_of(current) if current is not None else None,
            figures.get(member_id, empty),
            below_since=standings.get(member_id),
            floor_rank=floors.get(member_id, 0),
            as_of=as_of,
        )
        if decision.action == "none":
            continue
        if decision.action == "start_grace":
            starts.append(member_id)
            result.grace_started += 1
        elif decision.action == "clear_grace":
            clears.append(member_id)
            result.grace_cleared += 1
        else:
            moves.append((member_id, tier_id, decision))
            clears.append(member_id)
            upgraded = decision.action == "upgrade"
            result.upgraded += upgraded
            result.downgraded += not upgraded
            to = found.row(decision.tier)
            result.moves[(current.code if current else "", to.code if to else "")] += 1
    # Written after the read (the member list is read in chunks from one cursor), in bulk: a
    # first review under new rules may move most of a merchant's members (docs/tiers.md).
    promotions.move_members(
        actor,
        [
            promotions.TierMove(
                member_id,
                held_tier_id,
                found.row(decision.tier),
                TierChange.Reason.UPGRADE
                if decision.action == "upgrade"
                else TierChange.Reason.DOWNGRADE,
                dict(decision.detail),
            )
            for member_id, held_tier_id, decision in moves
        ],
    )
    _save_standings(merchant, starts, clears, as_of)
    return result


def _save_standings(
    merchant: Merchant, starts: list[int], clears: list[int], as_of: dt.datetime
) -> None:
    with transaction.atomic():
        for at in range(0, len(clears), BATCH):
            TierStanding.objects.filter(member_id__in=clears[at : at + BATCH]).update(
                below_since=None, reviewed_at=as_of
            )
        rows = [
            TierStanding(member_id=pk, merchant=merchant, below_since=as_of, reviewed_at=as_of)
            for pk in starts
        ]
        TierStanding.objects.bulk_create(
            rows,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["member"],
            update_fields=["below_since", "reviewed_at"],
        )


def review_all(as_of: dt.datetime | None = None) -> dict[str, ReviewResult]:
    return {m.slug: review(m, as_of) for m in Merchant.objects.order_by("pk")}


# --- progress and the preview of edited rules ------------------------------------------------


@dataclass(frozen=True)
class Progress:
    next: Tier | None
    missing: dict[str, int]

    def as_fact(self) -> dict[str, Any]:
        return {
            "next": self.next.code if self.next else None,
            "next_name": self.next.name if self.next else None,
            "missing": dict(self.missing),
        }


def progress(member: Member, at: dt.datetime | None = None) -> Progress:
    """The next tier the member can reach by their figures and what each condition lacks."""
    found = merchant_rules(member.merchant_id)
    current = found.current(member.tier_id)
    rule = rules.next_rule(found.engine, current.rank if current else 0)
    if rule is None:
        return Progress(None, {})
    return Progress(found.row(rule), rules.missing(rule, member_facts(member, at)))


def tier_progress_fact(member: Member) -> dict[str, Any]:
    return progress(member).as_fact()


def counts_under(
    merchant: Merchant, engine: list[rules.TierRule], at: dt.datetime | None = None
) -> Counter:
    """How many members each tier would hold today if the rules were `engine`: what they
    earn by their figures, never below what they hold now by hand, a card or a payment
    above what rules give (a tier held without rules stays), and never below a paid tier."""
    at = at or timezone.now()
    figures = facts(merchant, at)
    found = merchant_rules(merchant)
    floors = paid_floors(merchant, at, found)
    by_code = {rule.code: rule for rule in engine}
    base = rules.base_rule(engine)
    counts: Counter = Counter()
    empty = dict.fromkeys(rules.KEYS, 0)
    members = Member.objects.filter(merchant=merchant).exclude(status=MemberStatus.CLOSED)
    for member_id, tier_id in members.values_list("pk", "tier_id").iterator(chunk_size=BATCH):
        rule, _met = rules.earned(engine, figures.get(member_id, empty))
        rule = rule or base
        floor = floors.get(member_id, 0)
        if rule is not None and rule.rank < floor:
            rule = next((r for r in engine if r.rank == floor), rule)
        current = found.by_id(tier_id)
        held = by_code.get(current.code) if current is not None else None
        if held is not None and rule is not None and held.rank > rule.rank:
            # Held above what the rules give: kept unless keep_when would take it (later).
            rule = held
        if rule is not None:
            counts[rule.code] += 1
    return counts


def members_per_tier(merchant: Merchant, found: Rules) -> Counter:
    """How many members hold each tier now (members without one are on rank 0)."""
    held = Member.objects.filter(merchant=merchant).exclude(status=MemberStatus.CLOSED)
    counts: Counter = Counter()
    for tier_id, count in held.values_list("tier_id").annotate(n=Count("pk")).order_by():
        tier = found.current(tier_id)
        if tier is not None:
            counts[tier.code] += count
    return counts


# --- the birthday gift -----------------------------------------------------------------------


def birthday_gifts(merchant: Merchant, at: dt.datetime | None = None) -> int:
    """Give each member whose birthday is today (merchant's zone) their tier's gift, once a
    year: points under the key birthday-<member>-<year>, a coupon under the same key."""
    at = at or timezone.now()
    today = at.astimezone(zone_of(merchant)).date()
    found = merchant_rules(merchant)
    gifts = {tier.pk: tier.birthday_gift for tier in found.tiers if tier.birthday_gift}
    base = found.base
    if not gifts:
        return 0
    days = Q(birthday__month=today.month, birthday__day=today.day)
    if today.month == 3 and today.day == 1 and not _leap(today.year):
        days |= Q(birthday__month=2, birthday__day=29)
    members = Member.objects.filter(days, merchant=merchant, status=MemberStatus.ACTIVE)
    actor = Actor.system(merchant)
    given = 0
    for member in members.select_related("merchant").iterator(chunk_size=BATCH):
        tier_id = member.tier_id if found.by_id(member.tier_id) else (base.pk if base else None)
        gift = gifts.get(tier_id)
        if gift and _give(actor, member, gift, f"birthday-{member.pk}-{today.year}"):
            given += 1
    return given


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _give(actor: Actor, member: Member, gift: Mapping[str, Any], key: str) -> bool:
    """True when something was given now (False: given before under this key, or refused)."""
    new = False
    try:
        with transaction.atomic():
            if gift.get("points"):
                txn = ledger.earn_points(
                    actor,
                    member,
                    int(gift["points"]),
                    key=key,
                    context=ledger.Context(source=BIRTHDAY_SOURCE, reason="birthday"),
                    pending_days=0,
                )
                new = new or not getattr(txn, "replayed", False)
            if gift.get("coupon"):
                coupon = promotions.issue_coupon(actor, member, gift["coupon"], key=key)
                new = new or not getattr(coupon, "replayed", False)
    except DomainError as refused:  # a template out of stock or ended: the others still get theirs
        log.warning("birthday gift for member %s not given: %s", member.pk, refused)
        return False
    return new


# --- the editor's writes and checks ----------------------------------------------------------


def engine_rules(rows: list[dict[str, Any]]) -> list[rules.TierRule]:
    """Rules from `tiers` rows as the program file writes them (the editor's draft)."""
    return [
        rules.TierRule(
            code=row["code"],
            rank=int(row["rank"]),
            upgrade_when=dict(row.get("upgrade_when") or {}),
            keep_when=dict(row.get("keep_when") or {}),
            grace_days=int(row.get("grace_days", 30)),
        )
        for row in rows
    ]


def draft_problems(actor: Actor, rows: list[dict[str, Any]]) -> list[str]:
    """What the program schema refuses in a draft `tiers` section (nothing written)."""
    try:
        program.validate_program({"tiers": rows})
    except ValidationFailed as failure:
        return [f"{error.field}: {error.message}" for error in failure.errors]
    return []


def save_tier(actor: Actor, code: str, row: dict[str, Any]) -> list:
    """Replace one tier of the `tiers` section: a program revision, as `patron program apply`
    makes it (one console change of the program at a time, each building on the last)."""
    with transaction.atomic():
        Merchant.objects.select_for_update().filter(pk=actor.merchant.pk).first()
        rows = editing.current_rows(actor, "tiers")
        index = next((i for i, existing in enumerate(rows) if existing["code"] == code), None)
        if index is None:
            raise NotFound(_("Not found"))
        rows[index] = {**row, "code": code}
        try:
            return program.apply_program(actor, {"tiers": rows})
        except ValidationFailed as failure:
            raise _refused(failure.errors, index) from None


def _refused(errors: list, index: int) -> editing.RowRefused:
    """The refusals of the edited tier by their path in it; the rest as they are."""
    mine, other = [], []
    for error in errors:
        found = editing.ITEM_PATH.fullmatch(error.field)
        if found and found["section"] == "tiers" and int(found["index"]) == index:
            mine.append(editing.RowError(found["rest"] or "", str(error.message)))
        else:
            other.append(f"{error.field}: {error.message}")
    return editing.RowRefused(mine, other)
