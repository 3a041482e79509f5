"""GET /api/v1/members pages by cursor (docs/scale.md): next/previous cursors, stable while
members join, the old `page` up to 10,000 members, and the count as an estimate past 1,000."""

from __future__ import annotations

import pytest
from django.db import connection

from patron.members.services import register_member
from tests.scale_support import build_members

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/members"


def ids(answer: dict) -> list[int]:
    return [item["id"] for item in answer["items"]]


def all_pages(api, params: dict, on_each_page=None) -> list[int]:
    seen, cursor = [], ""
    while True:
        answer = api.get(URL, {**params, "cursor": cursor}).json()
        seen += ids(answer)
        if on_each_page is not None:
            on_each_page()
        if answer["next_cursor"] is None:
            return seen
        cursor = answer["next_cursor"]


def test_cursors_walk_every_member_once_forward_and_back(api, system, stores):
    build_members(system.merchant, 23, stores=list(stores.values()))

    first = api.get(URL, {"page_size": 10}).json()
    second = api.get(URL, {"page_size": 10, "cursor": first["next_cursor"]}).json()
    back = api.get(URL, {"page_size": 10, "cursor": second["previous_cursor"]}).json()

    assert first["previous_cursor"] is None
    assert ids(back) == ids(first)
    assert (first["count"], first["count_exact"]) == (23, True)
    everyone = all_pages(api, {"page_size": 10})
    assert len(everyone) == len(set(everyone)) == 23


def test_pages_stay_put_while_members_join(api, system, stores):
    build_members(system.merchant, 30, stores=list(stores.values()))
    before = all_pages(api, {"page_size": 7})
    joined = iter(range(100))

    def someone_joins():
        register_member(system, {"mobile": f"1770000{next(joined):04d}"})

    during = all_pages(api, {"page_size": 7}, on_each_page=someone_joins)

    assert during == before  # newcomers are newer than the first page: nobody shifts


def test_a_search_pages_by_cursor_in_rank_order(api, system, stores):
    for n in range(8):
        register_member(system, {"name": f"王{n}", "mobile": f"1390000{n:04d}"})
    register_member(system, {"name": "王", "mobile": "13900009999"})

    pages = all_pages(api, {"q": "王", "page_size": 4})
    first = api.get(URL, {"q": "王", "page_size": 4}).json()

    assert len(pages) == len(set(pages)) == 9
    assert first["items"][0]["name"] == "王"  # the exact name first


def test_the_old_page_parameter_works_while_cheap_and_hands_over_a_cursor(api, system, stores):
    build_members(system.merchant, 12, stores=list(stores.values()))
    by_cursor = all_pages(api, {"page_size": 5})

    second = api.get(URL, {"page_size": 5, "page": 2}).json()
    third = api.get(URL, {"page_size": 5, "cursor": second["next_cursor"]}).json()

    assert ids(second) == by_cursor[5:10]
    assert ids(third) == by_cursor[10:]


def test_a_deep_page_or_a_foreign_cursor_is_a_clear_422(api, stores):
    deep = api.get(URL, {"page_size": 200, "page": 100})
    forged = api.get(URL, {"cursor": "not-a-cursor"})

    assert deep.status_code == 422
    assert deep.json()["errors"][0]["field"] == "page"
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "cursor"


def test_past_a_thousand_the_count_is_postgresql_s_estimate(api, system, stores):
    build_members(system.merchant, 1500, stores=list(stores.values()))

    answer = api.get(URL, {"page_size": 1}).json()

    if connection.vendor == "postgresql":
        assert answer["count_exact"] is False and answer["count"] > 1000
    else:  # SQLite has no estimate: the small shop's database counts
        assert (answer["count"], answer["count_exact"]) == (1500, True)
