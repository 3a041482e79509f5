import datetime as dt

import pytest

from patron.ledger.models import LedgerPolicy
from patron.members.services import register_member

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def policy(merchant):
    return LedgerPolicy.objects.create(
        merchant=merchant,
        topup_bonus=[{"min": 10000, "bonus": 1000}, {"min": 50000, "bonus": 6000}],
    )


@pytest.fixture
def member(system, stores, policy):
    return register_member(system, {"mobile": "13800138000", "store": "S1"})


def set_points_policy(merchant, **points):
    policy = LedgerPolicy.objects.get(merchant=merchant)
    policy.points = points
    policy.save()
