"""The demo's history replays under its own program to the fen (issue 22, item 2): the flash
offer starts when it is launched, SVIPs were bought before the sales that priced them gold,
and no seeded top-up moves a tier at a moment the replay cannot place."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.demo.services import create_demo
from patron.program.services import export_program
from patron.tenancy.actor import Actor
from patron.whatif import services as whatif
from tests.whatif.support import today

pytestmark = [pytest.mark.django_db]


def test_a_year_of_demo_sales_replays_as_recorded():
    actor = Actor.system(create_demo(members=120).merchant)
    asked = whatif.question(actor, today() - dt.timedelta(days=365), today())

    result = whatif.simulate(actor, export_program(actor), asked)

    assert result.compared > 30  # the sales rung up through the checkout
    assert result.differences == []
    assert result.imported > result.compared  # the older history, re-priced but not compared
