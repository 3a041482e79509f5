"""Closing the same month from several processes at once (PostgreSQL): one closed month, one
set of frozen lines, one audit entry; every caller gets the same frozen statement."""

from __future__ import annotations

import pytest
from django.db import connection

from patron.network import settlement_services as services
from patron.network.models import SettlementLine, SettlementMonth
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant
from tests.network.settlement_support import last_month_moves, make_chain
from tests.sales.test_concurrency import in_processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 4


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def test_racing_closes_freeze_once(system, stores):
    chain = make_chain(system, stores)
    month = last_month_moves(
        system, chain, [("13500135001", "S1", 12000, "S2"), ("13500135002", "S2", 3000, "S3")]
    )
    merchant_id = system.merchant.pk

    def close(index: int):
        actor = Actor.system(Merchant.objects.get(pk=merchant_id))
        found = services.close_month(actor, month, key=f"race-{index}")
        return [(found.status, sum(row.amount for row in found.rows))]

    outcomes = in_processes(RACERS, close)
    assert outcomes == [("closed", 15000)] * RACERS
    assert SettlementMonth.objects.filter(month=month).count() == 1
    assert SettlementLine.objects.count() == 2
    assert AuditEntry.objects.filter(object_type="settlementmonth").count() == 1
