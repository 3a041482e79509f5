"""Home page figures come from the members table, per store, limited for store roles."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from patron.members.models import Member


def figure(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert match, name
    return match.group(1).strip()


def store_row(page: str, code: str) -> list[str]:
    row = page[page.index(f'data-store="{code}"') :]
    row = row[: row.index("</tr>")]
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def test_home_counts_members_today_this_month_and_per_store(hq_client, make_member, stores):
    make_member(store="S1")
    make_member(store="S1")
    make_member(store="S2")
    make_member()  # registered at HQ, no store
    earlier = make_member(store="S2")
    # Joined two months ago: counted in the total only.
    Member.objects.filter(pk=earlier.pk).update(joined_at=timezone.now() - dt.timedelta(days=70))

    page = hq_client.get("/").content.decode()

    assert figure(page, "total") == "5"
    assert figure(page, "today") == "4"
    assert figure(page, "month") == "4"
    assert store_row(page, "S1") == ["2", "2", "2"]
    assert store_row(page, "S2") == ["2", "1", "1"]
    assert store_row(page, "") == ["1", "1", "1"]


def test_store_bound_role_sees_only_their_store(cashier_client, make_member, stores):
    make_member(store="S1")
    make_member(store="S2")
    make_member(store="S2")

    page = cashier_client.get("/").content.decode()

    assert figure(page, "total") == "1"
    assert 'data-store="S1"' in page
    assert 'data-store="S2"' not in page


def test_home_with_no_members_shows_zeros(hq_client, stores):
    page = hq_client.get("/").content.decode()

    assert figure(page, "total") == "0"
    assert store_row(page, "S1") == ["0", "0", "0"]
