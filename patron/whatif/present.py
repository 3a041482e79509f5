"""A replay's answer (`jobs.answer`: the same dict for a short replay and a job's row) as the
what-if page shows it: figures with their difference, months and stores side by side with
their charts (`{% load charts %}` specs), discounts per promotion and members per tier by
name, the members whose tier would change, and the sales the current program re-prices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from patron.core.templatetags.months import month_label
from patron.members.models import Member
from patron.members.selectors import shown_mobile
from patron.program.display import shown_change
from patron.promotions.models import CouponTemplate, Promotion, Tier
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store

DIFFERENCES_SHOWN = 10  # sales; each with its fields
MOVES_SHOWN = 50  # members listed; the rest counted
POINTS_FIELDS = {"points_earned", "points_redeemed"}
# Who may open a sale's page (the receipt): the selling roles.
SALE_READERS = {Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER}


def figure_labels() -> list[tuple[str, str, str]]:
    """(key, label, unit) of the headline figures, in the contract's order."""
    return [
        ("revenue", pgettext("what-if figure", "Revenue"), "yuan"),
        ("discount", _("Promotion and coupon discounts"), "yuan"),
        ("member_discount", _("Member price discounts"), "yuan"),
        ("points_earned", _("Points earned"), "points"),
        ("points_redeemed", _("Points redeemed"), "points"),
        ("points_liability_fen", _("Points liability at the end"), "yuan"),
    ]


def recorded_field_labels() -> dict[str, str]:
    """The fields of a recorded sale the replay checks, in words."""
    return {
        "subtotal": _("Subtotal"),
        "member_discount": _("Member price discount"),
        "discount": _("Discount"),
        "points_redeemed": _("Points redeemed"),
        "points_value": _("Points used as cash"),
        "total": _("To pay"),
        "points_earned": _("Points earned"),
    }


@dataclass(frozen=True)
class Compared:
    """One figure now and under the draft; `unit` "yuan" (fen) or "points"."""

    key: str
    label: str
    unit: str
    current: int
    draft: int

    @property
    def diff(self) -> int:
        return self.draft - self.current

    @property
    def direction(self) -> str:
        return "up" if self.diff > 0 else "down" if self.diff < 0 else "same"


@dataclass
class Period:
    """A month or a store: its sales and figures now and under the draft."""

    key: str
    label: str
    sales: int
    figures: list[Compared]


@dataclass
class Shown:
    sales: int
    headline: list[Compared]
    faithful: dict[str, Any]
    differences: list[dict[str, Any]]
    months: list[Period]
    stores: list[Period]
    charts: dict[str, dict[str, Any]]
    promotions: list[Compared]
    tiers: list[Compared]
    moves: list[dict[str, Any]]
    moves_count: int
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def moves_more(self) -> int:
        return self.moves_count - len(self.moves)


def present(actor: Actor, answer: dict[str, Any], document: dict[str, Any]) -> Shown:
    current, draft = answer["current"], answer["draft"]
    tier_names = names_of_tiers(actor, document)
    store_names = dict(Store.objects.filter(merchant=actor.merchant).values_list("code", "name"))
    months = periods(answer["months"], month_label)
    stores = periods(answer["stores"], lambda code: store_names.get(code, code))
    return Shown(
        sales=answer["sales"],
        headline=[
            Compared(key, label, unit, current[key], draft[key])
            for key, label, unit in figure_labels()
        ],
        faithful=answer["faithful"],
        differences=differences(actor, answer["faithful"]["differences"]),
        months=months,
        stores=stores,
        charts={
            "months": chart(_("Per month: current program and draft"), months),
            "stores": chart(_("Per store: current program and draft"), stores),
        },
        promotions=by_name(
            current["by_promotion"], draft["by_promotion"], names_of_promotions(actor, document)
        ),
        tiers=by_name(current["by_tier"], draft["by_tier"], tier_names, unit="count"),
        moves=tier_moves(actor, answer["tier_moves"]["sample"], tier_names),
        moves_count=answer["tier_moves"]["members"],
        changes=named_changes(actor, answer.get("changes", []), document),
    )


# --- months and stores ------------------------------------------------------------------------


def period_figures(row: dict[str, Any]) -> list[Compared]:
    now, then = row["current"], row["draft"]
    return [
        Compared(
            "revenue",
            pgettext("what-if figure", "Revenue"),
            "yuan",
            now["revenue"],
            then["revenue"],
        ),
        Compared("discount", _("Discounts"), "yuan", now["discount"], then["discount"]),
        Compared(
            "member_discount",
            _("Member prices"),
            "yuan",
            now["member_discount"],
            then["member_discount"],
        ),
        Compared(
            "points_earned",
            _("Points earned"),
            "points",
            now["points_earned"],
            then["points_earned"],
        ),
    ]


def periods(rows: Iterable[dict[str, Any]], label: Callable[[str], str]) -> list[Period]:
    return [
        Period(
            key=row["key"],
            label=str(label(row["key"])),
            sales=max(row["current"]["sales"], row["draft"]["sales"]),
            figures=period_figures(row),
        )
        for row in rows
    ]


def chart(title: str, rows: list[Period]) -> dict[str, Any]:
    """Current against draft, one bar each per month or store; the picker chooses the figure
    (points in points, the rest in yuan)."""
    views = []
    for position, (key, label, unit) in enumerate(
        (figure.key, figure.label, figure.unit) for figure in (rows[0].figures if rows else [])
    ):
        scale = 100 if unit == "yuan" else 1
        views.append(
            {
                "key": key,
                "label": label,
                "unit": "yuan" if unit == "yuan" else "count",
                "values": {
                    "current": [row.figures[position].current / scale for row in rows],
                    "draft": [row.figures[position].draft / scale for row in rows],
                },
            }
        )
    return {
        "type": "bar",
        "title": title,
        "unit": "yuan",
        "labels": [row.label for row in rows],
        "series": [
            {"key": "current", "name": _("Current program")},
            {"key": "draft", "name": _("Draft")},
        ],
        "views": views,
        "view_label": _("Figure"),
    }


# --- names -------------------------------------------------------------------------------------


def rows_named(document: dict[str, Any], section: str) -> dict[str, str]:
    rows = document.get(section)
    if not isinstance(rows, list):
        return {}
    return {
        str(row["code"]): str(row["name"])
        for row in rows
        if isinstance(row, dict) and row.get("code") and row.get("name")
    }


def names_of_tiers(actor: Actor, document: dict[str, Any]) -> dict[str, str]:
    """Tier names, the draft's first (a tier it renames shows its new name)."""
    names = dict(Tier.objects.filter(merchant=actor.merchant).values_list("code", "name"))
    return names | rows_named(document, "tiers")


def names_of_promotions(actor: Actor, document: dict[str, Any]) -> dict[str, str]:
    """Promotions and coupon templates by code (a discount's code is one or the other)."""
    names = dict(CouponTemplate.objects.filter(merchant=actor.merchant).values_list("code", "name"))
    names |= dict(Promotion.objects.filter(merchant=actor.merchant).values_list("code", "name"))
    return names | rows_named(document, "coupon_templates") | rows_named(document, "promotions")


def by_name(
    current: dict[str, int], draft: dict[str, int], names: dict[str, str], unit: str = "yuan"
) -> list[Compared]:
    codes = list(dict.fromkeys([*current, *draft]))
    return [
        Compared(code, names.get(code, code), unit, current.get(code, 0), draft.get(code, 0))
        for code in codes
    ]


def named_changes(
    actor: Actor, lines: list[str], document: dict[str, Any]
) -> list[tuple[str, str, str, str]]:
    """The draft's changes in words (`program.display.shown_change`), a tier, promotion or
    coupon template by its name rather than its code."""
    names = {
        "tiers": names_of_tiers(actor, document),
        "promotions": names_of_promotions(actor, document),
    }
    names["coupon_templates"] = names["promotions"]
    shown = []
    for line in lines:
        op, section, key, detail = shown_change(line)
        raw_section = (line.split(" ") + ["", ""])[1]
        shown.append((op, section, names.get(raw_section, {}).get(key, key), detail))
    return shown


# --- members and sales -------------------------------------------------------------------------


def tier_moves(
    actor: Actor, sample: list[dict[str, Any]], tier_names: dict[str, str]
) -> list[dict[str, Any]]:
    """The members whose tier at the end differs, by name with the mobile masked by role."""
    sample = sample[:MOVES_SHOWN]
    ids = [move["member"] for move in sample]
    members = Member.objects.filter(merchant=actor.merchant, pk__in=ids).in_bulk()
    shown = []
    for move in sample:
        member = members.get(move["member"])
        if member is None:  # erased since the replay
            continue
        shown.append(
            {
                "member": member.pk,
                "name": member.name or member.card_no,
                "mobile": shown_mobile(actor, member),
                "current": tier_names.get(move["current"] or "", move["current"] or "—"),
                "draft": tier_names.get(move["draft"] or "", move["draft"] or "—"),
            }
        )
    return shown


def differences(actor: Actor, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first sales the current program re-prices, each with the fields that differ."""
    labels = recorded_field_labels()
    sales: dict[int, list[dict[str, Any]]] = {}
    for difference in found:
        if difference["sale"] not in sales and len(sales) == DIFFERENCES_SHOWN:
            continue
        sales.setdefault(difference["sale"], []).append(
            {
                "label": labels.get(difference["field"], difference["field"]),
                "unit": "points" if difference["field"] in POINTS_FIELDS else "yuan",
                "recorded": difference["recorded"],
                "replayed": difference["replayed"],
            }
        )
    linked: set[int] = set()
    if actor.role in SALE_READERS:
        linked = set(
            Sale.objects.filter(merchant=actor.merchant, pk__in=list(sales)).values_list(
                "pk", flat=True
            )
        )
    return [
        {"sale": sale, "linked": sale in linked, "fields": rows} for sale, rows in sales.items()
    ]
