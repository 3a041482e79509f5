"""The console member list over thousands of members built in one go (tests/scale_support.py):
keyset pages with next/previous links, filters and search on them, and the count shown as an
estimate past 1,000 on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from tests.scale_support import build_members

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def crowd(system, stores) -> None:
    build_members(system.merchant, 1500, stores=list(stores.values()))


def rows(response) -> list:
    return [member for member, _mobile in response.context["rows"]]


def test_the_first_page_shows_fifty_and_an_estimated_count(hq_client, crowd):
    response = hq_client.get("/members/")
    html = response.content.decode()

    assert len(rows(response)) == 50
    assert 'rel="next"' in html and 'rel="prev"' not in html
    if connection.vendor == "postgresql":
        assert response.context["count"].exact is False
        assert re.search(r"about [\d,]+ members", html), "the count is shown as an estimate"
    else:
        assert "1,500 members" in html


def test_next_and_previous_links_walk_the_pages(hq_client, crowd):
    first = hq_client.get("/members/")
    second = hq_client.get("/members/", {"cursor": first.context["page"].next_cursor})
    back = hq_client.get("/members/", {"cursor": second.context["page"].previous_cursor})

    assert {m.pk for m in rows(first)}.isdisjoint(m.pk for m in rows(second))
    assert [m.pk for m in rows(back)] == [m.pk for m in rows(first)]
    joined = [m.joined_at for m in rows(first) + rows(second)]
    assert joined == sorted(joined, reverse=True)


def test_store_and_gender_filter_page_by_keyset_too(hq_client, crowd, stores):
    params = {"store": "S2", "gender": "F"}
    first = hq_client.get("/members/", params)
    second = hq_client.get("/members/", {**params, "cursor": first.context["page"].next_cursor})

    shown = rows(first) + rows(second)
    assert len(shown) == 100
    assert all(m.store_id == stores["S2"].pk and m.gender == "F" for m in shown)


def test_a_name_search_ranks_the_exact_name_first(hq_client, crowd, system):
    from patron.members.services import register_member

    register_member(system, {"name": "王", "mobile": "13900000000"})

    found = rows(hq_client.get("/members/", {"q": "王"}))

    assert found[0].name == "王"
    assert all("王" in m.name for m in found)


def test_a_stale_cursor_starts_again_at_the_top_with_a_notice(hq_client, crowd):
    response = hq_client.get("/members/", {"cursor": "bm90LWEtY3Vyc29y"})

    assert response.status_code == 200
    assert len(rows(response)) == 50
    assert response.context["cursor_error"]
