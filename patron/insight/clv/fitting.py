"""A merchant's sales in, a value fit and each member's predictions out (F-34, API.md §8).

`member_days` reads the merchant's member sales (every channel, imported history included)
already cut to one row per member and local day by the database; `prepare.summarise` turns
those rows into the models' inputs, the same way for the CLI, the refresh and the tests.

Refunds: a refund recorded before the cutoff takes its amount off its sale's day (the day of
the sale, not of the refund); a sale refunded in full by then is no purchase at all, so a
day of nothing but refunded sales is no visit. A sale of 0 fen that was never refunded is a
visit (a free service, a fully discounted item).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from django.db import connection, transaction
from django.db.models import F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.dates import LocalDay, start_of_day, steady_offset
from patron.core.errors import DomainError
from patron.insight.clv import bgnbd, gamma_gamma, prepare
from patron.insight.models import MemberInsight, ValueFit
from patron.sales.models import Refund, Sale
from patron.tenancy.models import Merchant

MIN_CUSTOMERS = 20
MIN_REPEATERS = 10
HORIZON_DAYS = 90
READ_CHUNK = 50_000
WRITE_BATCH = 5_000
VALUE_COLUMNS = ("p_alive", "expected_visits_90d", "expected_value_90d")


class TooFewToFit(DomainError):
    """Not enough buying members (or repeat buyers) for the model to mean anything."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="too_few_to_fit", status=422)


@dataclass(frozen=True)
class Fitted:
    fit: ValueFit
    summary: prepare.Summary
    bgnbd: bgnbd.BgNbdParams
    gamma_gamma: gamma_gamma.GammaGammaParams | None


def cutoff_after(merchant: Merchant, day: dt.date) -> dt.datetime:
    """The first moment after `day` in the merchant's zone: sales before it count."""
    return start_of_day(day + dt.timedelta(days=1), ZoneInfo(merchant.timezone))


def member_days(merchant: Merchant, cutoff: dt.datetime) -> pl.DataFrame:
    """(member, day, amount) of every member sale before `cutoff`, one row per member and
    local day, amounts net of the refunds recorded before `cutoff`."""
    zone = ZoneInfo(merchant.timezone)
    sales = Sale.objects.filter(merchant=merchant, member__isnull=False, occurred_at__lt=cutoff)
    first = sales.aggregate(first=Min("occurred_at"))["first"]
    if first is None:
        return prepare.purchases_frame([], [], [])
    refunded = (
        Refund.objects.filter(sale=OuterRef("pk"), created_at__lt=cutoff)
        .values("sale")
        .annotate(amount=Sum("amount"))
        .values("amount")
    )
    rows = (
        sales.annotate(refunded=Coalesce(Subquery(refunded), 0))
        .filter(Q(refunded=0) | Q(total__gt=F("refunded")))
        .annotate(day=LocalDay("occurred_at", zone, steady_offset(zone, first, cutoff)))
        .values("member_id", "day")
        .annotate(amount=Sum(F("total") - F("refunded")))
        .values_list("member_id", "day", "amount")
        .order_by()
    )
    members: list[int] = []
    days: list[dt.date] = []
    amounts: list[int] = []
    for member_id, day, amount in rows.iterator(chunk_size=READ_CHUNK):
        members.append(member_id)
        days.append(day)
        amounts.append(int(amount))
    return prepare.purchases_frame(members, days, amounts)


def fit_summary(
    summary: prepare.Summary,
) -> tuple[bgnbd.BgNbdParams, gamma_gamma.GammaGammaParams | None]:
    """BG/NBD on everyone, Gamma-Gamma on the repeaters (None when there are too few of
    them for it, or its population mean value is infinite, q <= 1)."""
    if len(summary) < MIN_CUSTOMERS:
        raise TooFewToFit(
            _("%(members)s members have bought; a value fit needs at least %(least)s")
            % {"members": len(summary), "least": MIN_CUSTOMERS}
        )
    if summary.repeaters < MIN_REPEATERS:
        raise TooFewToFit(
            _(
                "%(members)s members have bought on more than one day; a value fit needs at "
                "least %(least)s"
            )
            % {"members": summary.repeaters, "least": MIN_REPEATERS}
        )
    try:
        counts = bgnbd.fit(summary.frequency, summary.recency, summary.T)
    except bgnbd.FitError as error:
        raise TooFewToFit(str(error)) from None
    try:
        values = gamma_gamma.fit(summary.frequency, summary.monetary, min_repeaters=MIN_REPEATERS)
    except bgnbd.FitError:
        values = None
    if values is not None and values.q <= 1:
        values = None
    return counts, values


def fit_merchant(
    merchant: Merchant, as_of: dt.date, unit: str = "day", cutoff: dt.datetime | None = None
) -> Fitted:
    """Fit on the sales up to and including the day `as_of` (or before `cutoff` when given:
    the refresh's moment) and store the fit as a ValueFit."""
    frame = member_days(merchant, cutoff or cutoff_after(merchant, as_of))
    summary = prepare.summarise(frame, as_of, unit)
    counts, values = fit_summary(summary)
    fit = ValueFit.objects.create(
        merchant=merchant,
        fitted_at=timezone.now(),
        as_of=as_of,
        unit=unit,
        customers=len(summary),
        bgnbd=rounded(counts.as_dict()),
        gamma_gamma=rounded(values.as_dict()) if values else None,
    )
    return Fitted(fit, summary, counts, values)


def rounded(params: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 6) for name, value in params.items()}


def params_in_days(fit: ValueFit) -> bgnbd.BgNbdParams:
    """A stored fit's BG/NBD parameters with time in days: r, a and b have no unit; alpha is
    a time (the Gamma's scale of the purchase rate), so a fit by the week has 7x it in days."""
    scale = prepare.UNITS[fit.unit]
    p = fit.bgnbd
    return bgnbd.BgNbdParams(p["r"], p["alpha"] * scale, p["a"], p["b"], p["ll"])


def stored_gamma_gamma(fit: ValueFit) -> gamma_gamma.GammaGammaParams | None:
    if not fit.gamma_gamma:
        return None
    g = fit.gamma_gamma
    return gamma_gamma.GammaGammaParams(g["p"], g["q"], g["v"], float("nan"))


@dataclass(frozen=True)
class Predictions:
    member: np.ndarray
    p_alive: np.ndarray
    visits: np.ndarray  # expected visits in the next HORIZON_DAYS
    value: np.ndarray | None  # fen, expected spend in the next HORIZON_DAYS


def predict(
    summary: prepare.Summary,
    counts: bgnbd.BgNbdParams,
    values: gamma_gamma.GammaGammaParams | None,
) -> Predictions:
    """Per member of a day-unit summary: P(alive), expected visits and value in 90 days
    (visits times the Gamma-Gamma expected value per visit; no discounting over 90 days)."""
    x, t_x, T = summary.frequency, summary.recency, summary.T  # noqa: N806
    alive = np.clip(bgnbd.probability_alive(counts, x, t_x, T), 0.0, 1.0)
    visits = bgnbd.expected_purchases(counts, float(HORIZON_DAYS), x, t_x, T)
    value = None
    if values is not None:
        value = visits * gamma_gamma.expected_average_value(values, x, summary.monetary)
    return Predictions(summary.member, alive, visits, value)


def finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def prediction_rows(predictions: Predictions) -> Iterator[tuple]:
    """(member, p_alive, expected visits, expected value in fen) per member; a figure the
    maths could not give (not finite) is left empty rather than stored wrong."""
    values = predictions.value
    for i in range(predictions.member.size):
        visits = finite(predictions.visits[i])
        value = None if values is None else finite(values[i])
        yield (
            int(predictions.member[i]),
            finite(predictions.p_alive[i]),
            None if visits is None else round(visits, 4),
            None if value is None else int(round(value)),
        )


def write_predictions(merchant: Merchant, predictions: Predictions, at: dt.datetime) -> int:
    """Upsert the members' value columns on MemberInsight (rows made when missing, the other
    parts' columns left alone), in one transaction. On PostgreSQL the rows are COPYed into
    a temporary table and upserted from it in one statement (a million members in seconds
    rather than minutes of INSERT batches); elsewhere bulk_create in batches."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            copy_predictions(merchant, predictions, at)
        else:
            insert_predictions(merchant, predictions, at)
    return int(predictions.member.size)


def insert_predictions(merchant: Merchant, predictions: Predictions, at: dt.datetime) -> None:
    fields = list(VALUE_COLUMNS)
    rows = prediction_rows(predictions)
    while batch := list(itertools.islice(rows, WRITE_BATCH)):
        MemberInsight.objects.bulk_create(
            [
                MemberInsight(
                    member_id=member,
                    merchant=merchant,
                    p_alive=alive,
                    expected_visits_90d=visits,
                    expected_value_90d=value,
                    computed_at=at,
                )
                for member, alive, visits, value in batch
            ],
            update_conflicts=True,
            unique_fields=["member"],
            update_fields=fields,
        )


def copy_predictions(merchant: Merchant, predictions: Predictions, at: dt.datetime) -> None:
    table = MemberInsight._meta.db_table
    with connection.cursor() as cursor:
        # A second write in the same transaction (tests, a refresh run twice) starts afresh.
        cursor.execute("DROP TABLE IF EXISTS value_predictions")
        cursor.execute(
            "CREATE TEMPORARY TABLE value_predictions (member_id bigint PRIMARY KEY, "
            "p_alive double precision, visits double precision, value bigint) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY value_predictions (member_id, p_alive, visits, value) FROM STDIN"
        ) as copy:
            for row in prediction_rows(predictions):
                copy.write_row(row)
        # New rows: every other column at its model default (whatever columns the other
        # parts of insight add), the value columns from the copy; existing rows: only those.
        others = [
            f
            for f in MemberInsight._meta.concrete_fields
            if f.column not in ("member_id", "merchant_id", *VALUE_COLUMNS)
        ]
        columns = ["member_id", "merchant_id", *(f.column for f in others), *VALUE_COLUMNS]
        values = ["member_id", "%s", *(["%s"] * len(others)), "p_alive", "visits", "value"]
        defaults = [at if f.column == "computed_at" else f.get_default() for f in others]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in VALUE_COLUMNS)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM value_predictions ON CONFLICT (member_id) DO UPDATE SET {updates}",
            [merchant.pk, *defaults],
        )


def clear_predictions(merchant: Merchant) -> None:
    """No fit: no member keeps a prediction from an older one."""
    MemberInsight.objects.filter(merchant=merchant, p_alive__isnull=False).update(
        p_alive=None, expected_visits_90d=None, expected_value_90d=None
    )


def fitted_today(merchant: Merchant, as_of: dt.date) -> ValueFit | None:
    """The newest fit for this as-of day made today (merchant's zone), to score with again."""
    zone = ZoneInfo(merchant.timezone)
    today = start_of_day(timezone.now().astimezone(zone).date(), zone)
    return (
        ValueFit.objects.filter(merchant=merchant, as_of=as_of, fitted_at__gte=today)
        .order_by("-fitted_at", "-pk")
        .first()
    )


def value_step(merchant: Merchant, as_of: dt.datetime) -> str:
    """The refresh's `value` step: fit (or reuse today's fit), then score every member who
    has bought. Too few buyers is a line in the summary, never an error."""
    day = as_of.astimezone(ZoneInfo(merchant.timezone)).date()
    reused = fitted_today(merchant, day)
    try:
        if reused is not None:
            summary = prepare.summarise(member_days(merchant, as_of), day, "day")
            counts, values = params_in_days(reused), stored_gamma_gamma(reused)
        else:
            fitted = fit_merchant(merchant, day, "day", cutoff=as_of)
            summary, counts, values = fitted.summary, fitted.bgnbd, fitted.gamma_gamma
    except TooFewToFit as error:
        clear_predictions(merchant)
        return _("no value fit: %s") % error
    scored = write_predictions(merchant, predict(summary, counts, values), as_of)
    how = _("reused today's fit") if reused is not None else _("fitted")
    money = "" if values is not None else _("; too few repeat buyers for expected value")
    parameters = f"r={counts.r:.3f} alpha={counts.alpha:.2f} a={counts.a:.3f} b={counts.b:.3f}"
    return _("%(how)s %(parameters)s, %(scored)s members scored%(money)s") % {
        "how": how,
        "parameters": parameters,
        "scored": f"{scored:,}",
        "money": money,
    }
