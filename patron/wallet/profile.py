"""What the wallet adds to the member list (points and stored value, sortable) and to ledger
movements (a top-up links to its slip).

The balances come from the ledger's member accounts, whose `balance` is kept on the row under
a lock in every posting: one LEFT JOIN per asset on the unique (merchant, asset, member) index,
so sorting a large merchant's members by balance is one query (docs/members.md has the figures).
"""

from __future__ import annotations

from django.db.models import F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.money import points, yuan
from patron.ledger.models import Asset, OwnerType, Transaction
from patron.ledger.references import Reference, add_resolver
from patron.members import profile
from patron.members.models import Member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role

TOP_UP_SLIP_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


def _account(asset: str) -> FilteredRelation:
    return FilteredRelation(
        "accounts",
        condition=Q(accounts__asset=asset, accounts__owner_type=OwnerType.MEMBER),
    )


def with_points(members: QuerySet[Member]) -> QuerySet[Member]:
    return members.annotate(points_account=_account(Asset.POINTS)).annotate(
        points_balance=Coalesce(F("points_account__balance"), Value(0))
    )


def with_stored_value(members: QuerySet[Member]) -> QuerySet[Member]:
    return members.annotate(
        principal_account=_account(Asset.PRINCIPAL), bonus_account=_account(Asset.BONUS)
    ).annotate(
        stored_value_balance=Coalesce(F("principal_account__balance"), Value(0))
        + Coalesce(F("bonus_account__balance"), Value(0))
    )


def points_cell(member: Member) -> str:
    return points(member.points_balance)


def stored_value_cell(member: Member) -> str:
    return yuan(member.stored_value_balance)


def top_up_references(actor: Actor, transactions: list[Transaction]) -> dict[int, Reference]:
    """A top-up's movement is the top-up itself: its slip (for the roles that top up)."""
    may_open = actor.role in TOP_UP_SLIP_ROLES
    return {
        txn.pk: Reference(
            label=_("Top-up slip #%(id)s") % {"id": txn.pk},
            url=reverse("wallet:topup_result", args=[txn.pk]) if may_open else "",
        )
        for txn in transactions
        if txn.kind == Transaction.Kind.TOPUP
    }


def register() -> None:
    profile.add_column(
        profile.Column(
            name="points",
            label=gettext_lazy("Points"),
            prepare=with_points,
            sort_key="points_balance",
            cell=points_cell,
            numeric=True,
            order=20,
        )
    )
    profile.add_column(
        profile.Column(
            name="stored_value",
            label=gettext_lazy("Stored value"),
            prepare=with_stored_value,
            sort_key="stored_value_balance",
            cell=stored_value_cell,
            numeric=True,
            order=30,
        )
    )
    add_resolver("topup", top_up_references)
