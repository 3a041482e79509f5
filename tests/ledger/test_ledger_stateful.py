"""Random sequences of ledger operations never break the ledger's invariants (issue: Ledger).

After every step, for the machine's own merchant: entries sum to zero per asset in every
transaction, cached balances equal the sum of their entries, lot remainders equal the points
balance, and no member balance is negative — i.e. `reconcile()` finds nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from patron.core.errors import DomainError
from patron.ledger import selectors, services
from patron.ledger.models import Account, Asset, LedgerPolicy, OwnerType, PointsLot
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant

pytestmark = [pytest.mark.postgres]
COUNTER = itertools.count()
START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class LedgerMachine(RuleBasedStateMachine):
    transactions = Bundle("transactions")

    def __init__(self) -> None:
        super().__init__()
        run = next(COUNTER)
        merchant = create_merchant(f"ledger-{run}", f"Ledger {run}")
        LedgerPolicy.objects.create(
            merchant=merchant,
            points={"expiry": {"policy": "rolling_days", "days": 30}},
            topup_bonus=[{"min": 10000, "bonus": 1000}, {"min": 50000, "bonus": 6000}],
        )
        self.actor = Actor.system(merchant)
        self.members = [
            register_member(self.actor, {"mobile": f"1380013{run % 1000:03d}{i}"}) for i in range(3)
        ]
        self.now = START
        self.keys = itertools.count()

    def key(self) -> str:
        return f"k{next(self.keys)}"

    def context(self) -> services.Context:
        return services.Context(occurred_at=self.now)

    def attempt(self, operation):
        try:
            return operation()
        except DomainError as error:
            assert error.code in {"insufficient_points", "insufficient_balance"}, error
            return None

    @rule(target=transactions, who=st.integers(0, 2), amount=st.integers(1, 80000))
    def top_up(self, who, amount):
        return self.attempt(
            lambda: services.top_up(
                self.actor, self.members[who], amount, key=self.key(), context=self.context()
            )
        )

    @rule(target=transactions, who=st.integers(0, 2), amount=st.integers(1, 30000))
    def pay(self, who, amount):
        return self.attempt(
            lambda: services.pay_stored_value(
                self.actor, self.members[who], amount, key=self.key(), context=self.context()
            )
        )

    @rule(target=transactions, who=st.integers(0, 2), points=st.integers(1, 500))
    def earn(self, who, points):
        return self.attempt(
            lambda: services.earn_points(
                self.actor, self.members[who], points, key=self.key(), context=self.context()
            )
        )

    @rule(target=transactions, who=st.integers(0, 2), points=st.integers(1, 400))
    def spend(self, who, points):
        return self.attempt(
            lambda: services.spend_points(
                self.actor, self.members[who], points, key=self.key(), context=self.context()
            )
        )

    @rule(target=transactions, who=st.integers(0, 2), points=st.integers(-300, 300))
    def adjust(self, who, points):
        if points == 0:
            return None
        return self.attempt(
            lambda: services.adjust_points(
                self.actor,
                self.members[who],
                points,
                reason="test",
                key=self.key(),
                context=self.context(),
            )
        )

    @rule(days=st.integers(1, 40))
    def clock_moves_and_points_expire(self, days):
        self.now += dt.timedelta(days=days)
        services.expire_due_lots(self.now, self.actor.merchant)
        assert services.expire_due_lots(self.now, self.actor.merchant) == 0

    @rule(txn=transactions, share=st.sampled_from([None, 1, 2]))
    def reverse(self, txn, share):
        if txn is None or txn.kind == "reversal":
            return
        amounts = None
        if share is not None:
            amounts = {
                e.asset: max(1, abs(e.amount) // (share + 1))
                for e in txn.entries.filter(account__owner_type=OwnerType.MEMBER)
            }
        services.reverse(self.actor, txn, key=self.key(), amounts=amounts, context=self.context())

    @rule(who=st.integers(0, 2))
    def refund_card(self, who):
        services.refund_card(self.actor, self.members[who], key=self.key(), context=self.context())

    @rule(target=transactions, who=st.integers(0, 2), amount=st.integers(1, 20000))
    def replay_is_applied_once(self, who, amount):
        key = self.key()
        member = self.members[who]
        first = services.top_up(self.actor, member, amount, key=key, context=self.context())
        balance = Account.objects.get(member=member, asset=Asset.PRINCIPAL).balance
        again = services.top_up(self.actor, member, amount, key=key, context=self.context())
        assert again.pk == first.pk
        assert Account.objects.get(member=member, asset=Asset.PRINCIPAL).balance == balance
        return first

    @invariant()
    def ledger_reconciles(self):
        assert selectors.reconcile(self.actor.merchant) == []

    @invariant()
    def no_negative_member_balance_or_lot(self):
        merchant = self.actor.merchant
        assert not Account.objects.filter(
            merchant=merchant, owner_type=OwnerType.MEMBER, balance__lt=0
        ).exists()
        assert not PointsLot.objects.filter(merchant=merchant, remaining__lt=0).exists()


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_ledger_invariants_hold_under_random_operations():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
