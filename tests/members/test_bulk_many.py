"""bulk_register returns its members without one parameter per member: PostgreSQL takes at
most 65,535 parameters in a statement (SQLite 32,766), and `patron demo --members 100000`
failed there."""

from __future__ import annotations

import pytest

from patron.members.services import bulk_register

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MANY = 66_000


def test_bulk_register_returns_more_members_than_a_statement_takes_parameters(hq):
    rows = [{"name": "会员", "mobile": f"139{n:08d}"} for n in range(MANY)]
    created = bulk_register(hq, rows, channel="import")
    assert created.count() == MANY
    first, last = created.first(), created.last()
    assert (first.mobile, last.mobile) == ("13900000000", f"139{MANY - 1:08d}")
