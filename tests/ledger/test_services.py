"""Ledger services: stored value, points, expiry edge cases, holds, reversal, guards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection

from patron.core.errors import DomainError
from patron.ledger import selectors, services
from patron.ledger.models import (
    Account,
    Asset,
    Entry,
    LedgerPolicy,
    PointsHold,
    PointsLot,
    Shortfall,
    Transaction,
)
from patron.members.models import MemberStatus
from patron.tenancy.models import AuditEntry
from tests.ledger.conftest import SHANGHAI, set_points_policy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def balance(member, asset):
    return Account.objects.get(member=member, asset=asset).balance


def at(*parts, tz=SHANGHAI):
    return dt.datetime(*parts, tzinfo=tz)


class TestStoredValue:
    def test_top_up_applies_the_highest_matching_bonus_row(self, system, member):
        services.top_up(system, member, 9999, key="a")  # below every row: no bonus
        services.top_up(system, member, 10000, key="b")  # "top up 100 get 10"
        services.top_up(system, member, 60000, key="c")  # 50,000 row beats 10,000 row
        assert balance(member, Asset.PRINCIPAL) == 9999 + 10000 + 60000
        assert balance(member, Asset.BONUS) == 1000 + 6000

    def test_top_up_with_the_same_key_is_applied_once(self, system, member):
        first = services.top_up(system, member, 10000, key="same")
        again = services.top_up(system, member, 10000, key="same")
        assert again.pk == first.pk and again.replayed
        assert balance(member, Asset.PRINCIPAL) == 10000

    @pytest.mark.parametrize(
        ("rule", "expected"),
        # 10,000 principal + 1,000 bonus, pay 2,200:
        # proportional 2200*10/11 = 2000 principal, 200 bonus; or one side first.
        [
            ("proportional", (2000, 200)),
            ("principal_first", (2200, 0)),
            ("bonus_first", (1200, 1000)),
        ],
    )
    def test_payment_split_rules(self, system, member, policy, rule, expected):
        policy.payment_split = rule
        policy.save()
        services.top_up(system, member, 10000, key="t")
        services.pay_stored_value(system, member, 2200, key="p")
        assert (
            10000 - balance(member, Asset.PRINCIPAL),
            1000 - balance(member, Asset.BONUS),
        ) == expected

    def test_paying_more_than_the_balance_is_refused_and_writes_nothing(self, system, member):
        services.top_up(system, member, 10000, key="t")
        before = Entry.objects.count()
        with pytest.raises(DomainError) as refused:
            services.pay_stored_value(system, member, 11001, key="p")
        assert refused.value.code == "insufficient_balance"
        assert Entry.objects.count() == before
        assert not Transaction.objects.filter(idempotency_key="p").exists()

    def test_card_refund_returns_principal_only(self, system, member):
        services.top_up(system, member, 10000, key="t")
        services.pay_stored_value(system, member, 1100, key="p")  # 1000 principal, 100 bonus
        refund = services.refund_card(system, member, key="r")
        cash_back = refund.entries.get(account__system_code="cash").amount
        assert cash_back == 9000
        assert balance(member, Asset.PRINCIPAL) == balance(member, Asset.BONUS) == 0

    @pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, 5_000_001])
    def test_bad_amounts_are_refused(self, system, member, amount):
        with pytest.raises(DomainError) as refused:
            services.top_up(system, member, amount, key="bad")
        assert refused.value.status == 422
        assert not Transaction.objects.exists()

    def test_frozen_member_moves_no_value(self, system, member):
        member.status = MemberStatus.FROZEN
        member.save()
        with pytest.raises(DomainError) as refused:
            services.top_up(system, member, 100, key="t")
        assert refused.value.code == "member_frozen"


class TestPointsAndExpiry:
    def test_lot_earned_just_before_midnight_shanghai_expires_end_of_next_year(
        self, system, member
    ):
        # 2026-12-31 23:30 in Shanghai is 15:30 UTC: still 2026 for the merchant.
        services.earn_points(
            system,
            member,
            100,
            key="e",
            context=services.Context(occurred_at=at(2026, 12, 31, 23, 30)),
        )
        lot = PointsLot.objects.get()
        assert lot.expires_at == at(2028, 1, 1)
        assert services.expire_due_lots(at(2027, 12, 31, 23, 59, 59)) == 0
        assert services.expire_due_lots(at(2028, 1, 1)) == 1
        assert balance(member, Asset.POINTS) == 0

    def test_lot_earned_after_midnight_shanghai_belongs_to_the_next_year(self, system, member):
        # 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Shanghai.
        services.earn_points(
            system,
            member,
            100,
            key="e",
            context=services.Context(occurred_at=dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)),
        )
        assert PointsLot.objects.get().expires_at == at(2029, 1, 1)

    def test_leap_day_lots(self, system, member, merchant):
        set_points_policy(merchant, expiry={"policy": "rolling_days", "days": 365})
        services.earn_points(
            system, member, 10, key="e", context=services.Context(occurred_at=at(2028, 2, 29, 10))
        )
        # Usable for 365 whole days after 29 Feb 2028: through 28 Feb 2029.
        assert PointsLot.objects.get().expires_at == at(2029, 3, 1)

    def test_expire_points_twice_expires_nothing_twice(self, system, member):
        services.earn_points(
            system, member, 70, key="e1", context=services.Context(occurred_at=at(2025, 5, 1))
        )
        services.earn_points(
            system, member, 30, key="e2", context=services.Context(occurred_at=at(2026, 5, 1))
        )
        call_command("expire-points", "--as-of", "2027-01-01")
        call_command("expire-points", "--as-of", "2027-01-01")
        expiries = Transaction.objects.filter(kind="expire")
        assert expiries.count() == 1
        assert expiries.get().occurred_at == at(2027, 1, 1)
        assert balance(member, Asset.POINTS) == 30
        assert selectors.reconcile() == []

    def test_spending_takes_the_soonest_expiring_lot_first(self, system, member):
        services.earn_points(
            system, member, 50, key="late", context=services.Context(occurred_at=at(2026, 6, 1))
        )
        services.earn_points(
            system, member, 50, key="early", context=services.Context(occurred_at=at(2025, 6, 1))
        )
        services.spend_points(
            system, member, 60, key="s", context=services.Context(occurred_at=at(2026, 7, 1))
        )
        remaining = dict(PointsLot.objects.values_list("earned_by__idempotency_key", "remaining"))
        assert remaining == {"early": 0, "late": 40}

    def test_points_past_expiry_cannot_be_spent_before_the_sweep(self, system, member):
        services.earn_points(
            system, member, 100, key="e", context=services.Context(occurred_at=at(2020, 1, 1))
        )
        assert selectors.member_balances(member)["points"]["available"] == 0
        with pytest.raises(DomainError) as refused:
            services.spend_points(system, member, 50, key="s")
        assert refused.value.code == "insufficient_points"
        assert balance(member, Asset.POINTS) == 100  # nothing moved; the sweep expires it

    def test_pending_points_are_a_hold_until_the_return_window_passes(
        self, system, member, merchant
    ):
        set_points_policy(merchant, pending_days=7)
        hold = services.earn_points(
            system,
            member,
            40,
            key="sale-1",
            context=services.Context(occurred_at=at(2026, 3, 1, 12)),
        )
        assert isinstance(hold, PointsHold)
        assert selectors.member_balances(member)["points"]["pending"] == 40
        assert services.release_due_holds(at(2026, 3, 8, 11)) == 0
        assert services.release_due_holds(at(2026, 3, 8, 12)) == 1
        assert services.release_due_holds(at(2026, 3, 8, 12)) == 0
        lot = PointsLot.objects.get()
        assert lot.earned_at == at(2026, 3, 1, 12)  # dated from the sale, not the release
        assert balance(member, Asset.POINTS) == 40

    def test_a_voided_hold_never_posts(self, system, member, merchant):
        set_points_policy(merchant, pending_days=7)
        hold = services.earn_points(system, member, 40, key="sale-1")
        services.void_hold(system, hold)
        assert services.release_due_holds(at(2099, 1, 1)) == 0
        assert not Entry.objects.exists()

    def test_balances_as_of_the_past_and_projected(self, system, member):
        services.earn_points(
            system, member, 100, key="e", context=services.Context(occurred_at=at(2026, 1, 10))
        )
        assert selectors.member_balances(member, at(2026, 1, 9))["points"]["available"] == 0
        far = selectors.member_balances(member, at(2028, 1, 1))
        assert far["points"]["available"] == 0 and far["points"]["expiring"] == []


class TestAdjustmentsAndReversal:
    def test_adjustment_needs_a_reason_and_a_role(self, system, member, cashier, hq):
        with pytest.raises(DomainError) as no_reason:
            services.adjust_points(hq, member, 10, reason=" ", key="a")
        assert no_reason.value.status == 422
        with pytest.raises(DomainError) as wrong_role:
            services.adjust_points(cashier, member, 10, reason="gift", key="b")
        assert wrong_role.value.status == 403
        services.adjust_points(hq, member, 10, reason="goodwill", key="c")
        entry = AuditEntry.objects.get(object_type="transaction")
        assert entry.user == hq.user and entry.changes["reason"] == [None, "goodwill"]
        assert balance(member, Asset.POINTS) == 10

    def test_reversing_what_was_already_used_records_a_shortfall(self, system, member):
        earn = services.earn_points(system, member, 100, key="e")
        services.spend_points(system, member, 70, key="s")
        services.reverse(system, earn, key="r")
        assert balance(member, Asset.POINTS) == 0
        assert Shortfall.objects.get().amount == 70
        assert selectors.member_balances(member)["shortfalls"] == {"points": 70}
        assert services.reverse(system, earn, key="r2") is None  # nothing left to reverse
        assert selectors.reconcile() == []

    def test_partial_reversals_never_exceed_the_original(self, system, member):
        top_up = services.top_up(system, member, 10000, key="t")  # + 1000 bonus
        for n in range(3):
            services.reverse(
                system, top_up, key=f"r{n}", amounts={Asset.PRINCIPAL: 4000, Asset.BONUS: 400}
            )
        assert balance(member, Asset.PRINCIPAL) == 0 and balance(member, Asset.BONUS) == 0
        assert Transaction.objects.filter(kind="reversal").count() == 3
        assert selectors.reconcile() == []

    def test_reversing_a_spend_restores_the_lots_it_used(self, system, member):
        services.earn_points(system, member, 100, key="e")
        spend = services.spend_points(system, member, 60, key="s")
        services.reverse(system, spend, key="r")
        assert PointsLot.objects.get().remaining == 100
        assert selectors.reconcile() == []


class TestAppendOnlyAndReconcile:
    def test_entries_cannot_be_changed_or_deleted(self, system, member):
        services.earn_points(system, member, 5, key="e")
        entry = Entry.objects.first()
        with pytest.raises(PermissionError):
            entry.save()
        with pytest.raises(PermissionError):
            entry.delete()
        with pytest.raises(PermissionError):
            Entry.objects.update(amount=0)
        with pytest.raises(PermissionError):
            Entry.objects.all().delete()

    def test_the_database_refuses_updates_of_entries(self, system, member):
        from django.db import transaction

        services.earn_points(system, member, 5, key="e")
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE ledger_entry SET amount = 99")

    def test_reconcile_reports_a_tampered_balance(self, system, member, capsys):
        services.top_up(system, member, 10000, key="t")
        call_command("reconcile")
        assert "0 differences" in capsys.readouterr().out
        Account.objects.filter(member=member, asset=Asset.PRINCIPAL).update(balance=9999)
        with pytest.raises(SystemExit) as exit_code:
            call_command("reconcile", "--merchant", "acme")
        assert exit_code.value.code == 1
        out = capsys.readouterr().out
        assert "expected 10000, found 9999" in out and "1 differences" in out


def test_program_sections_for_points_and_topup_bonus(system, merchant):
    from patron.program.services import apply_program, export_program

    document = {
        "points": {
            "earn": {"per_amount": 100, "points": 2},
            "expiry": {"policy": "rolling_days", "days": 90},
            "pending_days": 3,
        },
        "topup_bonus": [{"min": 50000, "bonus": 6000}, {"min": 10000, "bonus": 1000}],
        "stored_value": {"payment_split": "principal_first"},
    }
    assert apply_program(system, document)
    assert apply_program(system, document) == []  # applying twice changes nothing
    exported = export_program(system)
    assert exported["points"]["expiry"] == {"policy": "rolling_days", "days": 90}
    assert exported["topup_bonus"][0] == {"min": 10000, "bonus": 1000}
    assert LedgerPolicy.objects.get(merchant=merchant).payment_split == "principal_first"
    with pytest.raises(DomainError) as invalid:
        apply_program(
            system,
            {"points": {"expiry": {"policy": "weekly"}}, "topup_bonus": [{"min": -1, "bonus": 5}]},
        )
    assert {e.field for e in invalid.value.errors} == {"points.expiry.policy", "topup_bonus[0].min"}


def test_a_frozen_member_gets_no_manual_adjustment_either(hq, member):
    member.status = MemberStatus.FROZEN
    member.save()
    with pytest.raises(DomainError) as refused:
        services.adjust_points(hq, member, 10, reason="goodwill", key="a")
    assert refused.value.code == "member_frozen"
    assert not Transaction.objects.exists()


def test_the_top_up_maximum_is_stated_in_fen(system, member):
    with pytest.raises(DomainError) as refused:
        services.top_up(system, member, 5_000_001, key="t")
    assert "5000000" in str(refused.value) and refused.value.errors[0].field == "amount"
