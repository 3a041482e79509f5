"""Card numbers unique across merchants (a prefix per merchant), and a partner's till that
knows a visiting member by the card of the merchant they came from."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from patron.members.services import allocate_card_numbers
from patron.tenancy.cardprefix import MAX_SEQUENCE, next_prefix
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_merchant
from tests.network.alliance_support import (
    RATE,
    acme_api,
    alliance,
    get,
    member_with_points,
    post,
    tea,
    tea_api,
)

__all__ = ["acme_api", "alliance", "tea", "tea_api"]  # fixtures


def number(prefix: str, sequence: int) -> str:
    body = f"{prefix}{sequence:08d}"
    return body + luhn.calc_check_digit(body)


prefixes = st.from_regex(r"8[0-9]{0,5}", fullmatch=True)
sequences = st.integers(min_value=1, max_value=MAX_SEQUENCE)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(prefixes, prefixes, sequences, sequences)
def test_two_prefixes_never_make_the_same_number(p, q, m, n):
    # The argument of tenancy.cardprefix: a number is len(prefix) + 9 digits long.
    if p != q:
        assert number(p, m) != number(q, n)


@given(st.lists(st.sampled_from(["8", "81", "82", "83", "810", "89"]), unique=True))
def test_the_next_prefix_is_free(taken):
    prefix = next_prefix(taken)
    assert prefix not in taken and prefix.startswith("8") and prefix.isdigit()


def test_each_merchant_gets_its_own_prefix_and_members_never_share_a_number(merchant, tea):
    third = create_merchant("third", "Third Co")
    prefixes = [m.card_prefix for m in Merchant.objects.order_by("pk")]
    assert prefixes == ["8", "81", "82"]
    assert merchant.card_prefix == "8"  # the first merchant keeps the numbers it had
    numbers = {m.slug: set(allocate_card_numbers(m, 50)) for m in (merchant, tea, third)}
    assert not numbers["acme"] & numbers["tea"]
    assert not numbers["tea"] & numbers["third"] and not numbers["acme"] & numbers["third"]
    wang_acme = member_with_points(merchant, "13900000001", 0)
    wang_tea = member_with_points(tea, "13900000001", 0)
    assert wang_acme.card_no != wang_tea.card_no
    assert len(wang_tea.card_no) == 11 and wang_tea.card_no.startswith("81")


def test_a_prefix_is_unique_in_the_database(merchant, tea):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Merchant.objects.filter(pk=tea.pk).update(card_prefix="8")


def test_allocation_stops_before_the_sequence_outgrows_eight_digits(merchant):
    from patron.core.errors import DomainError

    Merchant.objects.filter(pk=merchant.pk).update(card_seq=MAX_SEQUENCE - 1)
    allocate_card_numbers(merchant, 1)
    with pytest.raises(DomainError) as refused:
        allocate_card_numbers(merchant, 1)
    assert refused.value.code == "card_numbers_exhausted"


def test_the_partner_till_identifies_a_visiting_member_by_card(
    acme_api, tea_api, alliance, merchant, tea
):
    wang = member_with_points(merchant, "13800000011", 1000)
    zhao = member_with_points(merchant, "13800000012", 1000)
    made = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 500})
    twin_id = made.json()["member_at_partner"]["id"]
    found = get(tea_api, "/identify", code=wang.card_no)
    assert found.status_code == 200, found.content
    assert found.json()["id"] == twin_id and found.json()["points"] == 400
    # A member of the partner the tea house does not know: a refusal naming the partner.
    unknown = get(tea_api, "/identify", code=zhao.card_no)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "alliance_member_unknown"
    assert "Acme 连锁" in unknown.json()["detail"]
    # Known by mobile at the tea house (registered there already): that member.
    member_with_points(tea, "13800000012", 0)
    assert get(tea_api, "/identify", code=zhao.card_no).status_code == 200
    # The tea house's own members still come first; and acme's till does not know tea cards
    # of members it never met.
    own = member_with_points(tea, "13800000013", 0)
    assert get(tea_api, "/identify", code=own.card_no).json()["id"] == own.pk
    # The till and POST /sales find members through the same identify_member.
    from patron.sales.services import identify_member
    from patron.tenancy.actor import Actor

    assert identify_member(Actor.system(tea), wang.card_no).pk == twin_id
    # Once the alliance is paused, acme cards are strangers at the tea house again.
    post(tea_api, f"/alliances/{alliance}/pause")
    assert get(tea_api, "/identify", code=wang.card_no).status_code == 404
    assert get(tea_api, "/identify", code=wang.card_no).json()["code"] == "not_found"


def test_no_alliance_no_identification(acme_api, tea_api, merchant, tea):
    wang = member_with_points(merchant, "13800000014", 0)
    post(acme_api, "/alliances", {"partner": "tea", "rate": RATE})  # invited, not accepted
    assert get(tea_api, "/identify", code=wang.card_no).json()["code"] == "not_found"
