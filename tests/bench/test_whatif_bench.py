"""`make bench-whatif` at a tiny size, so the bench never rots: its builder makes a merchant
with a few hundred sales on the test database, and `simulate` replays them under the current
program and the bench's draft, as the bench does; the bare quotes and the free-core measure
run too. No timing is checked."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_module():
    """bench/whatif.py, loaded by path (this test package is also called `bench`)."""
    spec = importlib.util.spec_from_file_location("bench_whatif", ROOT / "bench" / "whatif.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


whatif = bench_module()

# On SQLite (a multi-row INSERT) and again on PostgreSQL (COPY), as the bench writes there.
pytestmark = pytest.mark.postgres


@pytest.fixture
def built(db):
    return whatif.build(600, 120, dt.date.today(), say=lambda line: None)


def test_the_builder_writes_what_it_planned(built):
    from patron.members.models import Member
    from patron.promotions.models import TierChange
    from patron.sales.models import Refund, Sale, SaleLine

    assert Member.objects.filter(merchant__slug=whatif.MERCHANT).count() == 120
    assert Sale.objects.count() == built["in_range"] + built["before_range"]
    assert built["in_range"] == 600
    assert SaleLine.objects.count() == built["lines"]
    assert Sale.objects.filter(channel="import").exists()
    assert Sale.objects.filter(member__isnull=True).exists()
    assert Refund.objects.exists()
    assert TierChange.objects.count() == built["tier_changes"] > 0


def test_one_simulate_replays_the_built_sales(built):
    result, phases, total = whatif.simulate(workers=1)
    assert result.sales == built["in_range"]
    assert result.compared == result.sales - result.imported > 0
    # The builder recorded what the engine priced: the current program replays it (a member
    # in a grace period when the range starts is the one thing the replay cannot know).
    assert result.differing_sales <= result.compared // 20
    assert set(phases.seconds) == {"rules", "history read", "walk"}
    assert phases.found.sales == result.sales
    # Gold's rooms at 8.8折 instead of 8折: gold members get less off, never more.
    assert result.draft.figures["member_discount"] <= result.current.figures["member_discount"]
    assert whatif.bare_quotes(phases.found, 1) > 0
    one, many = whatif.parallel_room(2)
    assert one > 0 and many > 0
