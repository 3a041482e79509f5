"""Data for the privacy and erasure tests: a program with a card product, and members with
stored value, points, a coupon, a sale and a message, so that every section has something."""

from __future__ import annotations

from django.test import Client

from patron.campaigns.models import Message
from patron.ledger import services as ledger
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.program.services import apply_program
from patron.promotions.services import issue_coupon
from patron.sales.services import LineInput, SaleRequest, commit_sale
from patron.tenancy.actor import Actor

PROGRAM = {
    "categories": ["drinks"],
    "tiers": [{"code": "normal", "name": "普通会员", "rank": 0}],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "topup_bonus": [{"min": 10000, "bonus": 2000}],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
}


def apply(system: Actor) -> None:
    apply_program(system, PROGRAM)


def give_history(system: Actor, member: Member, *, tea: str, note: str, top_up: int = 0) -> None:
    """A sale of `tea`, points, a coupon, an inbox message saying `note`; `top_up` fen of
    stored value (10 000 and more earn a 2 000 bonus)."""
    tag = f"m{member.pk}"
    commit_sale(
        system,
        SaleRequest(
            lines=[LineInput(sku="TEA", category="drinks", unit_price=3000, name=tea)],
            member=member.pk,
            store="S1",
        ),
        key=f"{tag}-sale",
    )
    ledger.adjust_points(system, member, 500, reason="welcome", key=f"{tag}-points")
    if top_up:
        ledger.top_up(system, member, top_up, key=f"{tag}-topup")
    issue_coupon(system, member, "cash20", key=f"{tag}-coupon")
    Message.objects.create(
        merchant=member.merchant, member=member, channel="inbox", subject=note, body=note
    )


def assert_books_balance(merchant) -> None:
    assert [str(d) for d in reconcile(merchant)] == []


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()
