"""The member body's `lifecycle`, `rfm` and `cycle_days` (API.md §8): null before the first
refresh, filled after it, in lists too without a query per member."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.insight.scores_support import local, member, refresh, sale

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/members"
AS_OF = local(2026, 6, 15, 0, 0)


def test_fields_are_null_before_the_first_refresh(api, system, stores):
    ann = member(system, "13600000001")
    body = api.get(f"{URL}/{ann.pk}").json()
    assert (body["lifecycle"], body["rfm"], body["cycle_days"]) == (None, None, None)


def test_fields_after_a_refresh_in_one_member_and_in_lists(api, system, stores):
    ann = member(system, "13600000001", joined=local(2025, 1, 1))
    for day in (1, 11, 21):
        sale(ann, 1000, local(2026, 6, day))
    bob = member(system, "13600000002", joined=local(2026, 6, 10))
    refresh(system.merchant, AS_OF)
    body = api.get(f"{URL}/{ann.pk}").json()
    assert body["lifecycle"] == "excited"  # 5 days after the last, a cycle of 10
    assert body["rfm"] == {"r": 5, "f": 5, "m": 5, "cell": "555"}
    assert body["cycle_days"] == 10.0
    other = api.get(f"{URL}/{bob.pk}").json()
    assert (other["lifecycle"], other["rfm"], other["cycle_days"]) == ("excited", None, None)

    with CaptureQueriesContext(connection) as two:
        listed = api.get(URL).json()
    by_id = {item["id"]: item for item in listed["items"]}
    assert by_id[ann.pk]["rfm"]["cell"] == "555" and by_id[bob.pk]["lifecycle"] == "excited"
    for index in range(3, 8):
        member(system, f"1360000000{index}")
    with CaptureQueriesContext(connection) as seven:
        api.get(URL)
    assert len(seven.captured_queries) == len(two.captured_queries)
