"""Concurrent steps on one card (PostgreSQL only): the card's row lock lets one through.

Four processes replace the same lost card with different keys: exactly one new card is issued,
the others are told the card was replaced; four processes replace it with one key: one card.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from django.db import connection, connections

from patron.cards.models import Card, CardPayment
from patron.cards.services import IssueRequest, issue_card, replace_card, report_lost
from patron.core.errors import DomainError
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import create_merchant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROCESSES = 4
PROGRAM = {"card_products": [{"code": "std", "name": "会员卡", "replace_fee": 500}]}


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def replace_once(args: tuple[int, str, str]) -> str:
    merchant_id, card_no, key = args
    connections.close_all()
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    try:
        return replace_card(actor, card_no, key=key).card_no
    except DomainError as error:
        return error.code
    finally:
        connections.close_all()


@pytest.mark.parametrize("same_key", [False, True])
def test_one_replacement_whatever_the_concurrency(same_key):
    merchant = create_merchant("race", "Race")
    actor = Actor.system(merchant)
    apply_program(actor, PROGRAM)
    member = register_member(actor, {"mobile": "13800138000"})
    issue_card(actor, member, IssueRequest(product="std"), key="issue")
    report_lost(actor, member.card_no, key="lost")
    keys = ["one"] * PROCESSES if same_key else [f"k{n}" for n in range(PROCESSES)]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        outcomes = pool.map(replace_once, [(merchant.pk, member.card_no, key) for key in keys])
    new_no = Member.objects.get(pk=member.pk).card_no
    counted = Counter(outcomes)
    if same_key:
        assert counted == Counter({new_no: PROCESSES})
    else:
        assert counted == Counter({new_no: 1, "card_replaced": PROCESSES - 1})
    assert Card.objects.filter(member=member).count() == 2
    assert CardPayment.objects.filter(kind="replace_fee").count() == 1
