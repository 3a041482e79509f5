"""The console's home page. It stands above every app so it may show figures from any of them:
sales, members, top-ups and points for today, this week and this month, and a 90-day chart
the latest campaigns' return
(the insight dashboard will grow here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from patron.campaigns.report import dashboard_rows
from patron.core import months
from patron.home.figures import PERIODS, home_figures
from patron.members.selectors import members_in_all
from patron.network import commission_selectors, settlement_selectors
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import console_view


def network_figures(actor: Actor) -> dict[str, object] | None:
    """HQ's "this month in the chain": what stores owe each other so far, and the staff's
    commissions (None for everyone else: a store sees its own on the network pages)."""
    if actor.role != Role.HQ_ADMIN:
        return None
    zone = actor.merchant.timezone
    month = months.this_month(zone)
    statement = settlement_selectors.statement(actor, month)
    rows = commission_selectors.statement(actor, commission_selectors.parse_month(None, zone))
    return {
        "month": month,
        "between_stores": sum(row.amount for row in statement.rows),
        "commissions": commission_selectors.totals(rows)["amount"],
    }


@console_view
def home(request: HttpRequest) -> HttpResponse:
    figures = home_figures(request.actor)
    chosen = request.GET.get("period")
    period = figures.periods[chosen if chosen in PERIODS else "today"]
    return render(
        request,
        "home/home.html",
        {
            "figures": figures,
            "period": period,
            "periods": figures.periods.values(),
            "members_in_all": members_in_all(request.actor),
            "network": network_figures(request.actor),
            # Chain-wide figures: a store-bound manager sees only their store's.
            "campaigns": []
            if request.actor.store_bound
            else dashboard_rows(request.actor.merchant),
        },
    )
