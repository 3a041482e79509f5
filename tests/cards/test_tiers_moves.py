"""Tiers move right after the qualifying sale or top-up, and in the nightly review (F-10,
F-11): thresholds, each condition key, the rolling window in Asia/Shanghai, grace, floors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from patron.cards import tiers
from patron.cards.models import Card, CardProduct, Membership, TierStanding
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.promotions.models import Tier, TierChange
from patron.sales import services as sales
from patron.wallet.services import top_up
from tests.cards.tiers_support import member, sell, setup

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules(system, stores):
    setup(system)


def code(m) -> str | None:
    m.refresh_from_db()
    return m.tier.code if m.tier_id else None


def test_a_sale_reaching_the_threshold_upgrades_at_once(system, rules):
    m = member(system)
    sell(system, m, 99999, "s1")
    assert code(m) is None  # one fen below
    sell(system, m, 1, "s2")
    assert code(m) == "silver"
    change = TierChange.objects.get(member=m)
    assert change.reason == TierChange.Reason.UPGRADE
    assert change.detail == {"spend_12m": 100000}


def test_one_fen_below_does_not_upgrade_in_review_either(system, rules):
    m = member(system)
    sell(system, m, 99999, "s1")
    tiers.review(system.merchant)
    assert code(m) is None


def test_a_single_top_up_upgrades_through_the_wallet(system, rules):
    m = member(system)
    top_up(system, m, 99999, key="t1")
    assert code(m) is None
    top_up(system, m, 100000, key="t2")
    assert code(m) == "gold"
    assert TierChange.objects.get(member=m).detail == {"single_topup": 100000}


@pytest.mark.parametrize(
    ("key", "threshold"),
    [
        ("spend_total", 40000),
        ("single_sale", 20000),
        ("visits_12m", 4),
        ("points_12m", 400),
        ("points_total", 400),
    ],
)
def test_each_condition_key_upgrades(system, rules, key, threshold):
    Tier.objects.filter(code="silver").update(upgrade_when={key: threshold}, keep_when={})
    m = member(system)
    for n in range(3):
        sell(system, m, 10000 if key != "single_sale" else 19999, f"s{n}")
    tiers.review(system.merchant)
    assert code(m) is None
    sell(system, m, 20000, "last")
    assert code(m) == "silver", tiers.member_facts(m)


def test_card_fees_and_top_ups_are_not_spend(system, rules):
    m = member(system)
    ledger.top_up(system, m, 90000, key="t")
    facts = tiers.member_facts(m)
    assert facts["spend_12m"] == facts["spend_total"] == 0
    assert facts["single_topup"] == 90000


def test_the_rolling_window_edges_at_midnight_in_shanghai(system, rules):
    m = member(system)
    as_of = dt.datetime(2027, 6, 15, 10, tzinfo=SH)
    inside = dt.datetime(2026, 6, 16, 0, 0, tzinfo=SH)  # local midnight: counted
    outside = inside - dt.timedelta(microseconds=1)  # 23:59:59.999999 the day before
    sell(system, m, 60000, "in", at=inside)
    sell(system, m, 40000, "out", at=outside)
    Member.objects.filter(pk=m.pk).update(tier=None)  # moved at the sale, dated now
    facts = tiers.member_facts(m, as_of)
    assert facts["spend_12m"] == 60000
    assert facts["spend_total"] == 100000
    assert facts["visits_12m"] == 1
    tiers.review(system.merchant, as_of)
    assert code(m) is None
    # A day earlier the old sale is still inside: 100,000 fen in 12 months.
    tiers.review(system.merchant, as_of - dt.timedelta(days=1))
    assert code(m) == "silver"


def test_a_refund_counts_against_spend_but_downgrades_only_after_grace(system, rules):
    m = member(system)
    sale = sell(system, m, 100000, "big")
    assert code(m) == "silver"
    sales.refund_sale(system, sale, sales.RefundAsk(all=True), key="r")
    assert tiers.member_facts(m)["spend_12m"] == 0
    assert code(m) == "silver"  # no downgrade on the refund itself
    now = timezone.now()
    tiers.review(system.merchant, now)
    assert code(m) == "silver"
    assert TierStanding.objects.get(member=m).below_since == now
    tiers.review(system.merchant, now + dt.timedelta(days=29))
    assert code(m) == "silver"
    tiers.review(system.merchant, now + dt.timedelta(days=30))
    assert code(m) is None
    change = TierChange.objects.filter(member=m).first()
    assert change.reason == TierChange.Reason.DOWNGRADE
    assert TierStanding.objects.get(member=m).below_since is None


def test_downgrade_never_two_ranks_in_one_review(system, rules, hq):
    from patron.promotions.services import set_member_tier

    m = member(system)
    set_member_tier(hq, m, "gold")
    now = timezone.now()
    tiers.review(system.merchant, now)
    tiers.review(system.merchant, now + dt.timedelta(days=400))
    assert code(m) == "silver"
    tiers.review(system.merchant, now + dt.timedelta(days=401))
    assert code(m) == "silver"  # a new grace for silver starts here


def test_grace_cleared_when_back_above(system, rules):
    m = member(system)
    sale = sell(system, m, 100000, "big")
    sales.refund_sale(system, sale, sales.RefundAsk(all=True), key="r")
    now = timezone.now()
    tiers.review(system.merchant, now)
    assert TierStanding.objects.get(member=m).below_since is not None
    sell(system, m, 50000, "again")
    tiers.review(system.merchant, now + dt.timedelta(days=1))
    assert TierStanding.objects.get(member=m).below_since is None
    tiers.review(system.merchant, now + dt.timedelta(days=40))
    assert code(m) == "silver"


def test_an_active_paid_membership_is_a_floor(system, rules, hq):
    from patron.promotions.services import set_member_tier

    m = member(system)
    set_member_tier(hq, m, "gold")
    product = CardProduct.objects.create(
        merchant=system.merchant, code="svip", name="年卡", tier_code="gold", paid_days=365
    )
    now = timezone.now()
    Membership.objects.create(
        merchant=system.merchant,
        member=m,
        product=product,
        tier_code="gold",
        valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=365),
    )
    tiers.review(system.merchant, now)
    tiers.review(system.merchant, now + dt.timedelta(days=100))
    assert code(m) == "gold"
    assert tiers.earned_tier(m).code == "normal"


def test_a_first_deposit_puts_the_member_on_the_products_tier(system, rules):
    m = member(system)
    product = CardProduct.objects.create(
        merchant=system.merchant,
        code="std",
        name="会员卡",
        first_deposit_min=50000,
        first_deposit_tier="silver",
    )
    Card.objects.create(
        merchant=system.merchant,
        member=m,
        product=product,
        card_no=m.card_no,
        issued_at=timezone.now(),
    )
    top_up(system, m, 49999, key="small")
    assert code(m) is None
    top_up(system, m, 50000, key="first")
    assert code(m) == "silver"
    assert TierChange.objects.get(member=m).reason == TierChange.Reason.FIRST_DEPOSIT


def test_no_card_rows_no_first_deposit(system, rules):
    m = member(system)
    top_up(system, m, 60000, key="t")
    assert code(m) is None


def test_the_review_command(system, rules, capsys):
    m = member(system)
    sell(system, m, 100000, "s", at=timezone.now() - dt.timedelta(days=2))
    Tier.objects.filter(code="silver").update(upgrade_when={"spend_12m": 100000})
    Member.objects.filter(pk=m.pk).update(tier=None)
    call_command("tiers", "review", "--merchant", system.merchant.slug)
    assert code(m) == "silver"
    assert "1 up" in capsys.readouterr().out
    with pytest.raises(Exception, match="as-of"):
        call_command("tiers", "review", "--as-of", "yesterday")


def test_birthday_gift_once_a_year(system, rules, hq):
    from patron.ledger.models import Asset
    from patron.ledger.services import quick_balances
    from patron.promotions.services import set_member_tier

    m = member(system)
    today = timezone.now().astimezone(SH).date()
    m.birthday = today.replace(year=1990) if not (today.month == 2 and today.day == 29) else None
    m.save(update_fields=["birthday"])
    set_member_tier(hq, m, "gold")
    assert tiers.birthday_gifts(system.merchant) == 1
    assert tiers.birthday_gifts(system.merchant) == 0
    assert quick_balances(m)[Asset.POINTS] == 200
    assert tiers.member_facts(m)["points_total"] == 0  # a gift is not earned


def test_a_paid_membership_ends_on_the_tier_earned_meanwhile(system, rules):
    """Bought on normal, spent enough for silver while on the paid gold tier: the end of the
    period puts the member on silver (what the rules give), not back on normal."""
    from patron.cards import memberships

    CardProduct.objects.create(
        merchant=system.merchant, code="svip", name="年卡", tier_code="gold", paid_days=365
    )
    m = member(system)
    bought = memberships.buy_membership(system, m, "svip", method="cash", key="svip-1")
    assert code(m) == "gold"
    sell(system, m, 100000, "s1")
    assert code(m) == "gold"  # the paid tier is higher: nothing to upgrade to
    assert memberships.expire_due(bought.valid_until) == 1
    assert code(m) == "silver"
    change = TierChange.objects.filter(member=m).first()
    assert change.reason == TierChange.Reason.PAID_EXPIRED


def test_a_bulk_move_leaves_a_member_whose_tier_changed_since_it_was_read(system, rules, hq):
    """The nightly review moves members in bulk from what it read; a sale that upgraded a
    member meanwhile wins: the stale move is skipped, the others are recorded and audited."""
    from patron.promotions.services import TierMove, move_members, set_member_tier
    from patron.tenancy.models import AuditEntry

    silver = Tier.objects.get(code="silver")
    stale, fresh = member(system, "13800138001"), member(system, "13800138002")
    set_member_tier(hq, stale, "gold")  # after the review read both on rank 0
    moved = move_members(
        system,
        [
            TierMove(stale.pk, None, silver, TierChange.Reason.UPGRADE, {"spend_12m": 1}),
            TierMove(fresh.pk, None, silver, TierChange.Reason.UPGRADE, {"spend_12m": 1}),
        ],
    )
    assert moved == 1
    assert (code(stale), code(fresh)) == ("gold", "silver")
    change = TierChange.objects.get(member=fresh)
    assert (change.from_tier.code, change.to_tier.code, change.detail) == (
        "normal",
        "silver",
        {"spend_12m": 1},
    )
    assert AuditEntry.objects.filter(object_type="member", object_id=str(fresh.pk)).exists()
