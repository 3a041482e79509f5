"""Member stats windows (issue 16 item 2): per member `spend_12m`, `visits_12m`, the member's
own purchase cycle `cycle_days`, and what lifecycle and RFM read (`last_purchase_at`,
`purchase_days`).

The figures are the tier rules' (docs/tiers.md, `patron.cards.tiers.facts`): the 12 months
are the rolling window of `patron.engine.tiers.window_start` (local midnight of the day after
the same date a year earlier, so 365 or 366 days); `spend_12m` is the sales' totals in the
window less what was refunded of those sales; `visits_12m` counts the sales in the window
not refunded in full. A *purchase* is a sale not refunded in full (imported history sales
included); `cycle_days` = (last purchase day - first purchase day) / (purchase days - 1) in
the merchant's zone, when the member bought on two days or more.

One statement computes them, for the whole merchant (the refresh step) or for one member
(right after their sale or refund, in its transaction): an INSERT ... SELECT over the sales
grouped by member and local day, then by member, upserted on the member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.engine.tiers import window_start
from patron.insight import scores_db
from patron.insight.models import MemberInsight
from patron.members.models import Member
from patron.sales.models import Refund, Sale
from patron.tenancy.models import Merchant

REFUNDED = Sale.Status.REFUNDED.value


@dataclass(frozen=True)
class MemberWindow:
    """What the upsert left for one member (the live path reads it back)."""

    last_purchase_at: dt.datetime | None
    purchase_days: int
    cycle_days: float | None
    lifecycle: str


def _statement(zone: str, one_member: bool) -> tuple[str, list]:
    """The upsert, with the placeholders in order; the caller adds the values
    (`_params`). With `one_member`, filtered to one member and returning its row."""
    day, day_params = scores_db.day_sql("s.occurred_at", zone)
    sale = Sale._meta.db_table
    refund = Refund._meta.db_table
    member = Member._meta.db_table
    only_sales = " AND s.member_id = %s" if one_member else ""
    only_members = " AND m.id = %s" if one_member else ""
    # In bulk, a member whose figures are the same keeps their row untouched (no new row
    # version, no index writes): on a usual night most members. One member is always written,
    # so RETURNING gives their row.
    changed = "" if one_member else _changed_only()
    returning = (
        " RETURNING last_purchase_at, purchase_days, cycle_days, lifecycle" if one_member else ""
    )
    sql = f"""
INSERT INTO {scores_db.INSIGHT} (member_id, merchant_id, spend_12m, visits_12m, cycle_days,
  last_purchase_at, purchase_days, lifecycle, rfm, computed_at)
SELECT m.id, m.merchant_id,
  COALESCE(sold.spend, 0) - COALESCE(back.amount, 0),
  COALESCE(sold.visits, 0),
  CASE WHEN sold.days >= 2 THEN (sold.last_day - sold.first_day) * 1.0 / (sold.days - 1) END,
  sold.last_at, COALESCE(sold.days, 0), '', '', %s
FROM {member} m
LEFT JOIN (
  SELECT d.member_id, SUM(d.spend) AS spend, SUM(d.visits) AS visits,
    SUM(CASE WHEN d.bought > 0 THEN 1 ELSE 0 END) AS days,
    MIN(CASE WHEN d.bought > 0 THEN d.day END) AS first_day,
    MAX(CASE WHEN d.bought > 0 THEN d.day END) AS last_day,
    MAX(d.last_at) AS last_at
  FROM (
    SELECT s.member_id, {day} AS day,
      SUM(CASE WHEN s.occurred_at >= %s THEN s.total ELSE 0 END) AS spend,
      SUM(CASE WHEN s.occurred_at >= %s AND s.status <> %s THEN 1 ELSE 0 END) AS visits,
      SUM(CASE WHEN s.status <> %s THEN 1 ELSE 0 END) AS bought,
      MAX(CASE WHEN s.status <> %s THEN s.occurred_at END) AS last_at
    FROM {sale} s
    WHERE s.merchant_id = %s AND s.member_id IS NOT NULL AND s.occurred_at <= %s{only_sales}
    GROUP BY 1, 2
  ) d
  GROUP BY d.member_id
) sold ON sold.member_id = m.id
LEFT JOIN (
  SELECT s.member_id, SUM(r.amount) AS amount
  FROM {refund} r JOIN {sale} s ON s.id = r.sale_id
  WHERE r.merchant_id = %s AND s.member_id IS NOT NULL AND s.occurred_at >= %s
    AND s.occurred_at <= %s AND r.created_at <= %s{only_sales}
  GROUP BY s.member_id
) back ON back.member_id = m.id
WHERE m.merchant_id = %s{only_members}
ON CONFLICT (member_id) DO UPDATE SET
  spend_12m = excluded.spend_12m, visits_12m = excluded.visits_12m,
  cycle_days = excluded.cycle_days, last_purchase_at = excluded.last_purchase_at,
  purchase_days = excluded.purchase_days, computed_at = excluded.computed_at{changed}{returning}"""
    return sql, day_params


def _changed_only() -> str:
    table = scores_db.INSIGHT
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    checks = [
        f"{table}.{column} {differs} excluded.{column}"
        for column in ("spend_12m", "visits_12m", "cycle_days", "last_purchase_at", "purchase_days")
    ]
    return "\n  WHERE " + " OR ".join(checks)


def _params(
    day_params: list,
    merchant_id: int,
    as_of: dt.datetime,
    start: dt.datetime,
    member_id: int | None,
) -> list:
    only = [member_id] if member_id is not None else []
    return [
        timezone.now(),
        *day_params,
        start,
        start,
        REFUNDED,
        REFUNDED,
        REFUNDED,
        merchant_id,
        as_of,
        *only,
        merchant_id,
        start,
        as_of,
        as_of,
        *only,
        merchant_id,
        *only,
    ]


def refresh_stats(merchant: Merchant, as_of: dt.datetime) -> int:
    """Every member's windows as of `as_of` (the refresh step); members whose figures were
    new or changed (the others are left untouched)."""
    sql, day_params = _statement(merchant.timezone, one_member=False)
    start = window_start(as_of, ZoneInfo(merchant.timezone))
    with transaction.atomic():
        return scores_db.execute(sql, _params(day_params, merchant.pk, as_of, start, None))


def refresh_member(member: Member, as_of: dt.datetime | None = None) -> MemberWindow:
    """One member's windows now (or as of `as_of`), read back for their lifecycle."""
    merchant = member.merchant
    as_of = as_of or timezone.now()
    sql, day_params = _statement(merchant.timezone, one_member=True)
    start = window_start(as_of, ZoneInfo(merchant.timezone))
    row = scores_db.fetch(sql, _params(day_params, merchant.pk, as_of, start, member.pk))[0]
    last_at = row[0]
    if isinstance(last_at, str):  # SQLite hands RETURNING's datetimes back as text
        last_at = connection.ops.convert_datetimefield_value(
            last_at, MemberInsight._meta.get_field("last_purchase_at"), connection
        )
    return MemberWindow(last_at, int(row[1] or 0), row[2], row[3] or "")


def stats_step(merchant: Merchant, as_of: dt.datetime) -> str:
    written = refresh_stats(merchant, as_of)
    return _("%(count)s members with new figures (12-month spend and visits, cycles)") % {
        "count": f"{written:,}"
    }
