"""What sales adds to a member's console pages (through `members.profile`) and to the ledger's
movements (through `ledger.references`).

- the purchase history card of the member page: the member's sales, newest first, paged by
  keyset, each
  linking to its receipt, with store, cashier, the items in a few words and refunds marked;
- the purchase figures card: visits, spend, average ticket, first and last visit (in the
  merchant's time zone, as the console renders), favourite categories by their names;
- the member list's "last visit" column, sortable;
- links from ledger movements caused by a sale or a refund to the sale's receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.counting import row_count
from patron.core.keyset import console_page
from patron.ledger.models import Transaction
from patron.ledger.references import Reference, add_resolver, refs_as_ids
from patron.members import profile
from patron.members.models import Member
from patron.program.models import Category
from patron.sales.models import MemberStats, Refund, Sale, SaleLine
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.selectors import scoped

HISTORY_PAGE_SIZE = 10
HISTORY_CURSOR_PARAM = "sales_cursor"  # beside the member page's other lists' parameters
HISTORY_ORDERING = ("-occurred_at", "-id")  # the (member, occurred_at) index, read backwards
ITEMS_NAMED = 3  # lines named in a sale's summary; the rest are counted
FAVOURITES = 3
# Who may open a receipt (the till's roles); others see the sale number without a link.
RECEIPT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


# --- reads -----------------------------------------------------------------------------------


def member_sales(actor: Actor, member: Member) -> QuerySet[Sale]:
    """The member's sales the actor may see (a store-bound role: its own store's), newest
    first, with what the history row shows loaded in the same query."""
    sales = scoped(Sale.objects.filter(member=member), actor)
    return (
        sales.select_related("store", "user", "api_key")
        .prefetch_related("lines")
        .order_by(*HISTORY_ORDERING)
    )


def refunded_amounts(sales: list[Sale]) -> dict[int, int]:
    """What was refunded of each sale on a page: summed for these sales only (a SUM joined
    into the history's query would group every sale the member ever made)."""
    refunded = (
        Refund.objects.filter(sale__in=[sale.pk for sale in sales])
        .values("sale")
        .annotate(amount=Sum("amount"))
    )
    return {row["sale"]: row["amount"] or 0 for row in refunded}


def person_name(sale: Sale) -> str:
    if sale.user_id:
        return sale.user.get_full_name() or sale.user.get_username()
    if sale.api_key_id:
        return _("API key %(name)s") % {"name": sale.api_key.name}
    return _("System")


def items_summary(lines: list[SaleLine]) -> str:
    """ "湖景标准间 ×2、西湖醋鱼 and 3 more": the first lines by name, the rest counted."""
    named = [f"{line.name or line.sku} ×{line.quantity}" for line in lines[:ITEMS_NAMED]]
    summary = _(", ").join(named)  # 、 in Chinese
    if len(lines) > ITEMS_NAMED:
        more = len(lines) - ITEMS_NAMED
        summary = _("%(items)s and %(count)d more") % {"items": summary, "count": more}
    return summary


def category_names(merchant_id: int, codes: list[str]) -> dict[str, str]:
    """Display names of categories by code. The catalogue gives categories a name; a category
    without one shows its code."""
    rows = Category.objects.filter(merchant_id=merchant_id, code__in=codes)
    return {row.code: getattr(row, "name", "") or row.code for row in rows}


def favourite_categories(member: Member, count: int = FAVOURITES) -> list[str]:
    """The categories the member spent most on (lines not wholly refunded), by display name."""
    spend = (
        SaleLine.objects.filter(sale__member=member, refunded_quantity__lt=F("quantity"))
        .exclude(category="")
        .values("category")
        .annotate(spent=Sum("total"))
        .order_by("-spent", "category")[:count]
    )
    codes = [row["category"] for row in spend]
    names = category_names(member.merchant_id, codes)
    return [names.get(code, code) for code in codes]


@dataclass(frozen=True)
class HistoryRow:
    sale: Sale
    staff: str
    items: str
    refunded: int
    receipt_url: str


def history_rows(actor: Actor, sales: list[Sale]) -> list[HistoryRow]:
    may_open = actor.role in RECEIPT_ROLES
    refunded = refunded_amounts(sales)
    return [
        HistoryRow(
            sale=sale,
            staff=person_name(sale),
            items=items_summary(sorted(sale.lines.all(), key=lambda line: line.position)),
            refunded=refunded.get(sale.pk, 0),
            receipt_url=reverse("sales:receipt", args=[sale.pk]) if may_open else "",
        )
        for sale in sales
    ]


def member_figures(member: Member) -> dict[str, Any]:
    stats = MemberStats.objects.filter(member=member).first()
    return {
        "stats": stats,
        "visits": stats.visits if stats else 0,
        "spend": stats.total_spend if stats else 0,
        "average_ticket": stats.average_ticket if stats else 0,
        "favourites": favourite_categories(member) if stats else [],
    }


# --- the member page's cards -----------------------------------------------------------------


def purchase_history_panel(request: HttpRequest, member: Member) -> SafeString:
    sales = member_sales(request.actor, member)
    cursor = request.GET.get(HISTORY_CURSOR_PARAM)
    shown = console_page(sales, HISTORY_ORDERING, HISTORY_PAGE_SIZE, cursor)
    context = {
        "member": member,
        "page": shown.page,
        "cursor_ignored": shown.ignored,
        "count": row_count(sales),
        "rows": history_rows(request.actor, shown.page.items),
        "cursor_param": HISTORY_CURSOR_PARAM,
    }
    return render_to_string("sales/_member_sales.html", context, request=request)


def purchase_figures_panel(request: HttpRequest, member: Member) -> SafeString:
    context = {"member": member, **member_figures(member)}
    return render_to_string("sales/_member_figures.html", context, request=request)


# --- the member list's column ----------------------------------------------------------------


def with_stats(members: QuerySet[Member]) -> QuerySet[Member]:
    return members.select_related("stats")


def last_visit_cell(member: Member) -> str:
    stats = getattr(member, "stats", None)
    if stats is None or stats.last_visit_at is None:
        return "—"
    return date_format(timezone.localtime(stats.last_visit_at), "Y-m-d H:i")


LAST_VISIT_COLUMN = profile.Column(
    name="last_visit",
    label=gettext_lazy("Last visit"),
    prepare=with_stats,
    sort_key="stats__last_visit_at",
    cell=last_visit_cell,
    order=40,
)


# --- links from ledger movements -------------------------------------------------------------


def receipt_reference(sale_id: int, label: str, may_open: bool) -> Reference:
    return Reference(label=label, url=reverse("sales:receipt", args=[sale_id]) if may_open else "")


def sale_references(actor: Actor, transactions: list[Transaction]) -> dict[int, Reference]:
    """Movements of a sale (points earned or spent, stored value paid) -> its receipt."""
    wanted = refs_as_ids(transactions)
    seen = scoped(Sale.objects.filter(pk__in=list(wanted)), actor).values_list("pk", flat=True)
    may_open = actor.role in RECEIPT_ROLES
    found = {}
    for sale_id in seen:
        label = _("Receipt #%(id)s") % {"id": sale_id}
        for txn in wanted[sale_id]:
            found[txn.pk] = receipt_reference(sale_id, label, may_open)
    return found


def refund_references(actor: Actor, transactions: list[Transaction]) -> dict[int, Reference]:
    """Movements of a refund (points and stored value given back or taken back) -> the
    refunded sale's receipt, which lists the refund."""
    wanted = refs_as_ids(transactions)
    refunds = scoped(Refund.objects.filter(pk__in=list(wanted)), actor, store_field="sale__store")
    may_open = actor.role in RECEIPT_ROLES
    found = {}
    for refund_id, sale_id in refunds.values_list("pk", "sale_id"):
        label = _("Refund of receipt #%(id)s") % {"id": sale_id}
        for txn in wanted[refund_id]:
            found[txn.pk] = receipt_reference(sale_id, label, may_open)
    return found


def register() -> None:
    profile.add_panel(profile.Panel("main", purchase_history_panel, order=10))
    profile.add_panel(profile.Panel("side", purchase_figures_panel, order=5))
    profile.add_column(LAST_VISIT_COLUMN)
    add_resolver("sale", sale_references)
    add_resolver("refund", refund_references)
