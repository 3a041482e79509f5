"""Lifecycle (F-30): excited / active / inert / dormant from how long ago a member last
bought, measured against their own purchase cycle.

    recency = local days from the last purchase (never bought: from joining) to as_of
    cycle   = cycle_days when the member bought on at least min_visits days, else
              default_cycle_days; never below min_cycle_days
    ratio   = recency / cycle: <= excited -> excited, <= active -> active,
              <= inert -> inert, else dormant; and dormant whenever recency > dormant_after_days

The refresh step scores every member at once (Polars over one read of MemberInsight) and
writes only the members whose stage changed, each with a LifecycleChange row (the stored
`lifecycle.changed` event). A sale or refund rescores its member in its own transaction: a
purchase makes a dormant member excited again at once. Rules and figures:
docs/lifecycle-rfm.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
from django.db import transaction
from django.utils.translation import gettext as _

from patron.events import types as events
from patron.events.services import emit, emit_many
from patron.insight import scores_db
from patron.insight.models import Lifecycle, LifecycleChange
from patron.insight.program import LifecyclePolicy, stored_policy
from patron.insight.stats import MemberWindow
from patron.members.models import Member
from patron.promotions.selectors import cached_program_key
from patron.tenancy.models import Merchant

STAGES = (Lifecycle.EXCITED, Lifecycle.ACTIVE, Lifecycle.INERT, Lifecycle.DORMANT)
SCRATCH = "insight_lifecycle_scratch"


def stage(
    recency_days: int, purchase_days: int, cycle_days: float | None, policy: LifecyclePolicy
) -> str:
    """The stage of one member (the rule of the module docstring)."""
    if recency_days > policy.dormant_after_days:
        return Lifecycle.DORMANT.value
    ratio = recency_days / member_cycle(purchase_days, cycle_days, policy)
    if ratio <= policy.excited:
        return Lifecycle.EXCITED.value
    if ratio <= policy.active:
        return Lifecycle.ACTIVE.value
    if ratio <= policy.inert:
        return Lifecycle.INERT.value
    return Lifecycle.DORMANT.value


def member_cycle(purchase_days: int, cycle_days: float | None, policy: LifecyclePolicy) -> float:
    own = cycle_days if purchase_days >= policy.min_visits and cycle_days else None
    return max(own or policy.default_cycle_days, policy.min_cycle_days, 1e-9)


def stages(frame: pl.DataFrame, today: int, policy: LifecyclePolicy) -> pl.Series:
    """`stage` for a whole frame of `last_day`, `joined_day` (day numbers), `purchase_days`
    and `cycle_days`, vectorised."""
    recency = today - pl.coalesce("last_day", "joined_day")
    own = pl.when((pl.col("purchase_days") >= policy.min_visits) & (pl.col("cycle_days") > 0)).then(
        pl.col("cycle_days")
    )
    cycle = pl.max_horizontal(
        own.fill_null(policy.default_cycle_days), pl.lit(policy.min_cycle_days), pl.lit(1e-9)
    )
    ratio = recency / cycle
    found = (
        pl.when(recency > policy.dormant_after_days)
        .then(pl.lit(Lifecycle.DORMANT.value))
        .when(ratio <= policy.excited)
        .then(pl.lit(Lifecycle.EXCITED.value))
        .when(ratio <= policy.active)
        .then(pl.lit(Lifecycle.ACTIVE.value))
        .when(ratio <= policy.inert)
        .then(pl.lit(Lifecycle.INERT.value))
        .otherwise(pl.lit(Lifecycle.DORMANT.value))
    )
    return frame.select(found.alias("stage")).to_series()


# --- the refresh step ------------------------------------------------------------------------


def _members(merchant: Merchant) -> pl.DataFrame:
    last, last_params = scores_db.day_sql("i.last_purchase_at", merchant.timezone)
    joined, joined_params = scores_db.day_sql("m.joined_at", merchant.timezone)
    rows = scores_db.fetch(
        f"SELECT i.member_id, {last}, {joined}, i.purchase_days, i.cycle_days, i.lifecycle"
        f" FROM {scores_db.INSIGHT} i JOIN {Member._meta.db_table} m ON m.id = i.member_id"
        " WHERE i.merchant_id = %s",
        [*last_params, *joined_params, merchant.pk],
    )
    schema = {
        "member_id": pl.Int64,
        "last_day": pl.Int64,
        "joined_day": pl.Int64,
        "purchase_days": pl.Int64,
        "cycle_days": pl.Float64,
        "lifecycle": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def refresh_lifecycle(merchant: Merchant, as_of: dt.datetime) -> Counter:
    """Every member's stage as of `as_of`; the changes written with their LifecycleChange
    rows (occurred_at = as_of). Returns the members per stage."""
    policy = stored_policy(merchant)
    with transaction.atomic():
        frame = _members(merchant)
        if frame.is_empty():
            return Counter()
        today = scores_db.day_number(as_of, merchant.timezone)
        frame = frame.with_columns(stages(frame, today, policy))
        changed = frame.filter(pl.col("stage") != pl.col("lifecycle"))
        if not changed.is_empty():
            _write_changes(merchant, changed, as_of)
        return Counter(dict(frame["stage"].value_counts().iter_rows()))


def _write_changes(merchant: Merchant, changed: pl.DataFrame, as_of: dt.datetime) -> None:
    """The new stages through a scratch table: the LifecycleChange rows first (they read the
    old stage), then the members' stage and since when."""
    rows = (
        (member_id, new, as_of)
        for member_id, new in changed.select("member_id", "stage").iter_rows()
    )
    scores_db.load_scratch(SCRATCH, ("lifecycle", "lifecycle_since"), rows)
    changes = LifecycleChange._meta.db_table
    scores_db.execute(
        f"INSERT INTO {changes} (member_id, merchant_id, from_stage, to_stage, occurred_at)"
        f" SELECT i.member_id, i.merchant_id, i.lifecycle, c.lifecycle, c.lifecycle_since"
        f" FROM {SCRATCH} c JOIN {scores_db.INSIGHT} i ON i.member_id = c.member_id",
    )
    scores_db.update_from_scratch(SCRATCH, ("lifecycle", "lifecycle_since"))
    scores_db.drop_scratch(SCRATCH)
    # A member's first stage is no change (the first nightly run scores everyone): only
    # moves from a stage they had become `lifecycle.changed` events.
    moved = changed.filter(pl.col("lifecycle").is_not_null() & (pl.col("lifecycle") != ""))
    emit_many(
        merchant.pk,
        events.LIFECYCLE_CHANGED,
        (
            (member_id, lifecycle_data(member_id, old, new, as_of))
            for member_id, old, new in moved.select("member_id", "lifecycle", "stage").iter_rows()
        ),
        at=as_of,
    )


def lifecycle_data(member_id: int, old: str, new: str, at: dt.datetime) -> dict:
    """The `lifecycle.changed` payload: stage codes (excited, active, inert, dormant)."""
    return {"member_id": member_id, "from": old, "to": new, "at": at}


def lifecycle_step(merchant: Merchant, as_of: dt.datetime) -> str:
    counts = refresh_lifecycle(merchant, as_of)
    return _("excited %(excited)s, active %(active)s, inert %(inert)s, dormant %(dormant)s") % {
        key.value: f"{counts.get(key.value, 0):,}" for key in STAGES
    }


# --- right after a sale or refund ------------------------------------------------------------


# The thresholds as the last sale of each merchant read them, under the promotions cache's
# program key (a program apply changes it): a sale reads no policy row of its own.
_sale_policies: dict[int, tuple[tuple, LifecyclePolicy]] = {}


def sale_policy(merchant_id: int) -> LifecyclePolicy:
    key = cached_program_key(merchant_id)
    if key is None:
        return stored_policy(merchant_id)
    cached = _sale_policies.get(merchant_id)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = stored_policy(merchant_id)
    _sale_policies[merchant_id] = (key, found)
    return found


def rescore_member(member: Member, window: MemberWindow, at: dt.datetime) -> str:
    """The member's stage after their activity; a change is written with its event."""
    merchant = member.merchant
    policy = sale_policy(merchant.pk)
    today = scores_db.day_number(at, merchant.timezone)
    since = window.last_purchase_at or member.joined_at
    recency = today - scores_db.day_number(since, merchant.timezone)
    found = stage(recency, window.purchase_days, window.cycle_days, policy)
    if found != window.lifecycle:
        scores_db.execute(
            f"UPDATE {scores_db.INSIGHT} SET lifecycle = %s, lifecycle_since = %s"
            " WHERE member_id = %s",
            [found, at, member.pk],
        )
        LifecycleChange.objects.create(
            member=member,
            merchant_id=merchant.pk,
            from_stage=window.lifecycle,
            to_stage=found,
            occurred_at=at,
        )
        if window.lifecycle:
            emit(
                merchant.pk,
                events.LIFECYCLE_CHANGED,
                lifecycle_data(member.pk, window.lifecycle, found, at),
                member_id=member.pk,
                at=at,
            )
    return found
