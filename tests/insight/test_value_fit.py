"""From a merchant's sales to a value fit and each member's predictions: the data
preparation (one visit per member and local day, refunds, the as-of day), `patron insight
fit` (CDNOW through the database, JSON, errors) and the refresh's `value` step."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from patron.insight.clv import fitting, prepare
from patron.insight.models import MemberInsight, ValueFit
from patron.insight.refresh import refresh
from patron.sales.models import Refund, Sale
from tests.cli_support import cli_in_process
from tests.insight.value_data import load_cdnow, make_members, make_sales

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZONE)


@pytest.fixture
def store(stores):
    return stores["S1"]


def summary_of(merchant, as_of: str, unit: str = "day") -> dict[int, tuple]:
    day = dt.date.fromisoformat(as_of)
    frame = fitting.member_days(merchant, fitting.cutoff_after(merchant, day))
    s = prepare.summarise(frame, day, unit)
    return {
        int(m): (f, r, t, z)
        for m, f, r, t, z in zip(s.member, s.frequency, s.recency, s.T, s.monetary, strict=True)
    }


def test_one_visit_per_local_day_the_first_is_no_repeat_and_as_of_is_included(merchant, store):
    alice, bob, carol = make_members(merchant, store, 3, at("2026-01-01"))
    make_sales(
        merchant,
        store,
        [
            (alice, at("2026-03-01", "09:00"), 1000),  # first day: not a repeat
            (alice, at("2026-03-01", "20:00"), 500),  # same local day: merged
            (alice, at("2026-03-08", "00:30"), 2000),  # 2026-03-07 16:30 UTC, local 03-08
            (alice, at("2026-03-08", "23:50"), 1000),  # still 03-08 locally: merged
            (alice, at("2026-03-31", "23:59"), 600),  # on the as-of day: counts
            (alice, at("2026-04-01", "00:01"), 9900),  # after it: left out
            (bob, at("2026-03-10"), 4200),  # one purchase only
            (carol, at("2026-04-02"), 100),  # only after the as-of day: not a customer
        ],
    )
    got = summary_of(merchant, "2026-03-31")
    assert set(got) == {alice.pk, bob.pk}
    assert got[alice.pk] == (2, 30.0, 30.0, (3000 + 600) / 2)
    assert got[bob.pk] == (0, 0.0, 21.0, 0.0)
    weeks = summary_of(merchant, "2026-03-31", "week")
    assert weeks[alice.pk][1:3] == pytest.approx((30 / 7, 30 / 7))


def test_refunds_reduce_the_day_and_a_fully_refunded_sale_is_no_visit(merchant, store):
    (dave,) = make_members(merchant, store, 1, at("2026-01-01"))
    make_sales(
        merchant,
        store,
        [
            (dave, at("2026-02-01"), 3000),
            (dave, at("2026-02-10"), 5000),  # refunded 2000 of it
            (dave, at("2026-02-20"), 4000),  # refunded in full: no visit
            (dave, at("2026-02-25"), 0),  # a free visit still is one
        ],
    )
    sales = {s.total: s for s in Sale.objects.filter(member=dave)}
    for sale, amount in ((sales[5000], 2000), (sales[4000], 4000)):
        Refund.objects.create(
            merchant=merchant, sale=sale, idempotency_key=f"r{sale.pk}", amount=amount
        )
    # Recorded now, after the as-of day: as of then, nothing was refunded yet.
    assert summary_of(merchant, "2026-02-28")[dave.pk] == (3, 24.0, 27.0, (5000 + 4000 + 0) / 3)
    Refund.objects.update(created_at=at("2026-02-21"))
    assert summary_of(merchant, "2026-02-28")[dave.pk] == (2, 24.0, 27.0, (3000 + 0) / 2)


def test_non_member_sales_and_other_merchants_are_not_read(merchant, store, other_api):
    (erin,) = make_members(merchant, store, 1, at("2026-01-01"))
    make_sales(merchant, store, [(erin, at("2026-02-01"), 100)])
    Sale.objects.create(
        merchant=merchant,
        store=store,
        idempotency_key="walk-in",
        occurred_at=at("2026-02-02"),
        subtotal=100,
        discount=0,
        total=100,
    )
    assert set(summary_of(merchant, "2026-02-28")) == {erin.pk}


def test_fit_cli_reproduces_cdnow_within_1_percent_through_the_database(merchant, store, capsys):
    load_cdnow(merchant, store)
    code = cli_in_process(
        "insight", "fit", "--merchant", "acme", "--as-of", "1997-09-30", "--unit", "week"
    )
    out = capsys.readouterr().out
    assert code == 0
    answer = json.loads(out)  # only the JSON on standard output
    assert set(answer) == {"customers", "bgnbd", "gamma_gamma"}
    assert set(answer["bgnbd"]) == {"r", "alpha", "a", "b", "ll"}
    assert set(answer["gamma_gamma"]) == {"p", "q", "v"}
    assert answer["customers"] == 2357
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert answer["bgnbd"][name] == pytest.approx(value, rel=0.01), (
            f"CDNOW {name} through `patron insight fit` not within 1 % of {value}"
        )
    gg = answer["gamma_gamma"]
    assert (gg["p"], gg["q"], gg["v"]) == pytest.approx((6.25, 3.74, 1544), rel=0.01)  # v fen
    fit = ValueFit.objects.get(merchant=merchant)
    assert (fit.as_of, fit.unit, fit.customers) == (dt.date(1997, 9, 30), "week", 2357)


def test_fit_cli_with_too_few_buyers_is_a_readable_error(merchant, store, capsys):
    members = make_members(merchant, store, 5, at("2026-01-01"))
    make_sales(merchant, store, [(m, at("2026-02-01"), 100) for m in members])
    code = cli_in_process("insight", "fit", "--merchant", "acme", "--as-of", "2026-03-01")
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    assert "5 位会员有消费" in captured.err and "Traceback" not in captured.err  # zh-Hans
    assert not ValueFit.objects.exists()


def test_fit_cli_refuses_an_unknown_merchant_and_unit(merchant, capsys):
    assert cli_in_process("insight", "fit", "--merchant", "nobody") != 0
    assert "nobody" in capsys.readouterr().err
    assert cli_in_process("insight", "fit", "--merchant", "acme", "--unit", "month") != 0
    assert "month" in capsys.readouterr().err


def history(merchant, store, count: int = 80, seed: int = 7):
    """Members buying at their own rate until they drop out, over 2025-2026."""
    rng = np.random.default_rng(seed)
    members = make_members(merchant, store, count, at("2025-01-01"))
    purchases = []
    for member in members:
        day = at("2025-01-01") + dt.timedelta(days=int(rng.integers(0, 200)))
        rate = rng.gamma(1.5, 1 / 30)  # visits per day
        while day < at("2026-06-30"):
            purchases.append((member, day, int(rng.gamma(4, 2500))))
            if rng.random() < 0.2:
                break
            day += dt.timedelta(days=max(1, int(rng.exponential(1 / rate))))
    make_sales(merchant, store, purchases)
    return members


def test_refresh_writes_each_buying_members_value(merchant, store):
    members = history(merchant, store)
    report = refresh(merchant, at("2026-07-01", "00:00"))
    lines = {step: summary for step, summary, _s in report.lines}
    assert lines["value"].startswith("已拟合 r=")
    rows = {row.member_id: row for row in MemberInsight.objects.filter(merchant=merchant)}
    assert set(rows) == {m.pk for m in members}
    for row in rows.values():
        assert 0 <= row.p_alive <= 1
        assert row.expected_visits_90d >= 0
        assert row.expected_value_90d is not None and row.expected_value_90d >= 0
    one_timers = Sale.objects.values("member_id").annotate(n=models_count()).filter(n=1)
    for row in one_timers:
        assert rows[row["member_id"]].p_alive == 1.0
    fit = ValueFit.objects.get(merchant=merchant)
    assert (fit.as_of, fit.unit) == (dt.date(2026, 7, 1), "day")


def models_count():
    from django.db.models import Count

    return Count("pk")


def test_refresh_reuses_todays_fit_and_keeps_existing_insight_columns(merchant, store):
    members = history(merchant, store)
    MemberInsight.objects.create(member=members[0], merchant=merchant, spend_12m=123, rfm="555")
    fitting.value_step(merchant, at("2026-07-01", "00:00"))
    again = fitting.value_step(merchant, at("2026-07-01", "00:00"))
    assert again.startswith("沿用今日的拟合")
    assert ValueFit.objects.count() == 1
    kept = MemberInsight.objects.get(member=members[0])
    assert (kept.spend_12m, kept.rfm) == (123, "555")
    assert kept.p_alive is not None


def test_refresh_with_too_few_repeat_buyers_leaves_nulls_and_says_so(merchant, store):
    members = make_members(merchant, store, 30, at("2026-01-01"))
    make_sales(merchant, store, [(m, at("2026-02-01"), 100) for m in members])
    MemberInsight.objects.create(member=members[0], merchant=merchant, p_alive=0.4)
    summary = fitting.value_step(merchant, at("2026-03-01", "00:00"))
    assert summary.startswith("未拟合价值模型：") and "不止一天" in summary
    assert not MemberInsight.objects.filter(p_alive__isnull=False).exists()


def test_member_body_carries_the_value_fact(merchant, store, api):
    members = history(merchant, store)
    fitting.value_step(merchant, at("2026-07-01", "00:00"))
    body = api.get(f"/api/v1/members/{members[0].pk}").json()
    value = body["value"]
    assert set(value) == {"p_alive", "expected_visits_90d", "expected_value_90d"}
    assert isinstance(value["p_alive"], float) and 0 <= value["p_alive"] <= 1
    assert isinstance(value["expected_value_90d"], int)
    (newcomer,) = make_members_after(merchant, store)
    assert api.get(f"/api/v1/members/{newcomer.pk}").json()["value"] is None


def make_members_after(merchant, store):
    from patron.members.models import Member

    member = Member.objects.create(
        merchant=merchant,
        card_no="N0000001",
        mobile="13900009999",
        referral_code="NEW00001",
        store=store,
        joined_at=at("2026-07-01"),
    )
    return [member]
