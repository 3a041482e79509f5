"""Console pages for stored value and points (F-13 … F-19, F-46, F-49).

A member's balances and ledger history, manual point adjustments, top-ups at the store with a
preview of the bonus, and the merchant's outstanding liabilities as of any day. Reads go
through `patron.ledger.selectors` and the scoped member selectors (a store-bound role sees its
own store's members only; anyone else's member is "not found"); every write goes through
`patron.ledger.services` under a one-time token, so a double click is one movement.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from patron.core.errors import DomainError, NotFound
from patron.engine.money import div_round_half_up
from patron.engine.stored_value import BonusRow, topup_bonus
from patron.ledger import selectors, services
from patron.ledger.forms import (
    AdjustPointsForm,
    HistoryFilterForm,
    LiabilitiesForm,
    PaymentMethod,
    TopUpForm,
    add_domain_error,
)
from patron.ledger.models import (
    Asset,
    Entry,
    PointsLot,
    Transaction,
)
from patron.members.models import Member
from patron.members.selectors import member_for, shown_mobile
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import console_view, require_role

HISTORY_PAGE_SIZE = 50
EXPIRING_SOON_DAYS = 30
LOTS_SHOWN = 200
ADJUSTING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
TOP_UP_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
LIABILITY_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

may_adjust = require_role(*ADJUSTING_ROLES)
may_top_up = require_role(*TOP_UP_ROLES)
may_see_liabilities = require_role(*LIABILITY_ROLES)


# --- shared helpers --------------------------------------------------------------------------


def member_or_404(actor: Actor, pk: Any) -> Member:
    """A member the actor may see; another store's or merchant's member is simply not found."""
    try:
        return member_for(actor, pk)
    except NotFound:
        raise Http404(_("Member not found")) from None


def local_zone() -> dt.tzinfo:
    # console_view renders every page in the merchant's time zone.
    return timezone.get_current_timezone()


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of `day` in the merchant's zone (selectors compare with <=)."""
    return start_of_day(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def wants_fragment(request: HttpRequest) -> bool:
    """htmx asks for a part of the page; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Leave the page: htmx follows a plain redirect inside the swapped part, so tell it."""
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def who_did(txn: Transaction) -> str:
    """The person, API key or system process behind a movement (F-46)."""
    if txn.user_id:
        return txn.user.get_full_name() or txn.user.get_username()
    if txn.api_key_id:
        return _("API key %(name)s") % {"name": txn.api_key.name}
    return _("System")


def shown_reason(txn: Transaction) -> str:
    # A top-up stores its payment method as the reason unless the caller gave one.
    if txn.kind == Transaction.Kind.TOPUP and PaymentMethod.is_known(txn.reason):
        return _("Paid by %(method)s") % {"method": PaymentMethod.label(txn.reason)}
    if txn.kind == Transaction.Kind.EXPIRE:
        return ""  # the kind says it all; the stored reason is a fixed code
    if txn.kind == Transaction.Kind.REVERSAL and txn.reverses_id and not txn.reason:
        return _("Reverses #%(id)s") % {"id": txn.reverses_id}
    return txn.reason


# --- member balances page --------------------------------------------------------------------


@dataclass
class HistoryRow:
    entry: Entry
    kind: str
    asset: str
    store: str
    who: str
    reason: str


@dataclass
class LotRow:
    lot: PointsLot
    status: str  # active / used / expired
    status_label: str


def history_entries(member: Member, filters: dict[str, Any]) -> QuerySet[Entry]:
    entries = selectors.member_entries(member, filters.get("asset"))
    if "kind" in filters:
        entries = entries.filter(transaction__kind=filters["kind"])
    if "date_from" in filters:
        entries = entries.filter(occurred_at__gte=start_of_day(filters["date_from"]))
    if "date_to" in filters:
        entries = entries.filter(occurred_at__lte=end_of_day(filters["date_to"]))
    return entries


def history_rows(entries: list[Entry]) -> list[HistoryRow]:
    rows = []
    for entry in entries:
        txn = entry.transaction
        rows.append(
            HistoryRow(
                entry=entry,
                kind=txn.get_kind_display(),
                asset=entry.get_asset_display(),
                store=txn.store.name if txn.store_id else "",
                who=who_did(txn),
                reason=shown_reason(txn),
            )
        )
    return rows


def lot_rows(member: Member, show_all: bool) -> list[LotRow]:
    """Lots with points left (expired ones too, until the nightly expiry sweeps them);
    with `show_all` also the used-up and swept ones."""
    lots = selectors.member_lots(member)
    if not show_all:
        lots = lots.filter(remaining__gt=0)
    now = timezone.now()
    rows = []
    for lot in lots[:LOTS_SHOWN]:
        if lot.expires_at is not None and lot.expires_at <= now:
            rows.append(LotRow(lot, "expired", pgettext("points lot", "Expired")))
        elif lot.remaining == 0:
            rows.append(LotRow(lot, "used", pgettext("points lot", "Used up")))
        else:
            rows.append(LotRow(lot, "active", pgettext("points lot", "Active")))
    return rows


def expiring_soon(balances: dict[str, Any]) -> dict[str, Any]:
    """Points that expire within EXPIRING_SOON_DAYS, and when the first of them go."""
    horizon = timezone.now() + dt.timedelta(days=EXPIRING_SOON_DAYS)
    soon = [row for row in balances["points"]["expiring"] if row["expires_at"] <= horizon]
    return {
        "points": sum(row["points"] for row in soon),
        "first": soon[0]["expires_at"] if soon else None,
        "days": EXPIRING_SOON_DAYS,
    }


def member_page_context(
    request: HttpRequest, member: Member, adjust_form: AdjustPointsForm | None = None
) -> dict[str, Any]:
    actor = request.actor
    filters = HistoryFilterForm(request.GET or None)
    entries = history_entries(member, filters.valid_filters())
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    balances = selectors.member_balances(member)
    may_adjust_points = actor.role in ADJUSTING_ROLES
    if may_adjust_points and adjust_form is None:
        adjust_form = AdjustPointsForm()
    show_all_lots = request.GET.get("lots") == "all"
    return {
        "member": member,
        "mobile": shown_mobile(actor, member),
        "balances": balances,
        "expiring_soon": expiring_soon(balances),
        "lots": lot_rows(member, show_all_lots),
        "show_all_lots": show_all_lots,
        "lots_limit": LOTS_SHOWN,
        "holds": selectors.pending_holds(member),
        "shortfalls": selectors.member_shortfalls(member),
        "filters": filters,
        "page": page,
        "rows": history_rows(list(page.object_list)),
        "hx_target": "#ledger-history",
        "adjust_form": adjust_form if may_adjust_points else None,
        "may_top_up": actor.role in TOP_UP_ROLES,
    }


@console_view
@require_GET
def member_balances(request: HttpRequest, pk: int) -> HttpResponse:
    member = member_or_404(request.actor, pk)
    context = member_page_context(request, member)
    if wants_fragment(request):
        response = render(request, "ledger/_history.html", context)
    else:
        response = render(request, "ledger/member.html", context)
    # The same URL answers with the history table or the whole page: keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@may_adjust
def adjust_points(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = member_or_404(actor, pk)
    form = AdjustPointsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            txn = services.adjust_points(
                actor,
                member,
                data["points"],
                reason=data["reason"],
                key=f"console-adjust:{data['token']}",
                context=services.Context(store=actor.store_bound),
            )
        except DomainError as problem:
            add_domain_error(form, problem, {"insufficient_points": "points"})
        else:
            if getattr(txn, "replayed", False):
                messages.info(
                    request, _("This adjustment was already recorded; it was not applied again.")
                )
            else:
                messages.success(
                    request,
                    _("%(points)+d points recorded for %(member)s.")
                    % {"points": data["points"], "member": member.name or member.card_no},
                )
            return redirect("ledger:member", pk=member.pk)
    return render(request, "ledger/member.html", member_page_context(request, member, form))


# --- top-up ----------------------------------------------------------------------------------


@dataclass
class TopUpPreview:
    member: Member
    mobile: str
    amount: int
    bonus: int
    bonus_row: BonusRow | None
    next_row: BonusRow | None
    before: dict[str, int]
    store_name: str
    payment_label: str

    @property
    def after_principal(self) -> int:
        return self.before["principal"] + self.amount

    @property
    def after_bonus(self) -> int:
        return self.before["bonus"] + self.bonus

    @property
    def after_total(self) -> int:
        return self.after_principal + self.after_bonus

    @property
    def credited(self) -> int:
        return self.amount + self.bonus


def bonus_table(actor: Actor) -> list[BonusRow]:
    rows = services.policy_for(actor.merchant).topup_bonus or []
    return sorted((BonusRow(**row) for row in rows), key=lambda row: row.min)


def preview_top_up(actor: Actor, form: TopUpForm) -> TopUpPreview:
    """What the confirmation will credit, from the same table the ledger service applies."""
    member: Member = form.cleaned_data["member"]
    amount: int = form.cleaned_data["amount"]
    table = bonus_table(actor)
    bonus = topup_bonus(amount, table)
    applied = [row for row in table if row.min <= amount]
    # The next row up, so the cashier can tell the member what a larger top-up would bring.
    higher = [row for row in table if row.min > amount and row.bonus > bonus]
    return TopUpPreview(
        member=member,
        mobile=shown_mobile(actor, member),
        amount=amount,
        bonus=bonus,
        bonus_row=applied[-1] if applied else None,
        next_row=higher[0] if higher else None,
        before=selectors.member_balances(member)["stored_value"],
        store_name=str(form.pay_in_store),
        payment_label=PaymentMethod.label(form.cleaned_data["payment_method"]),
    )


def render_top_up(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context = {"bonus_table": bonus_table(request.actor), **context}
    template = "ledger/_topup_panel.html" if wants_fragment(request) else "ledger/topup.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def entry_form_again(request: HttpRequest) -> TopUpForm:
    """'Change' on the preview: the entry form with what was typed, not yet checked."""
    fields = ("member", "amount", "payment_method", "store")
    initial = {name: request.POST.get(name, "") for name in fields}
    return TopUpForm(actor=request.actor, initial=initial)


@may_top_up
def top_up(request: HttpRequest) -> HttpResponse:
    """Entry (GET) -> preview (POST step=preview) -> confirm (POST step=confirm) -> result."""
    actor = request.actor
    if request.method != "POST":
        initial = {"member": request.GET.get("member", "")[:32]}
        return render_top_up(request, {"form": TopUpForm(actor=actor, initial=initial)})
    step = request.POST.get("step", "preview")
    if step == "edit":
        return render_top_up(request, {"form": entry_form_again(request)})
    if step != "confirm":
        form = TopUpForm(request.POST, actor=actor)
        if not form.is_valid():
            return render_top_up(request, {"form": form})
        return render_top_up(
            request,
            {"form": form, "preview": preview_top_up(actor, form), "token": form.token_value()},
        )
    form = TopUpForm(request.POST, actor=actor, needs_token=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            txn = services.top_up(
                actor,
                data["member"],
                data["amount"],
                key=f"console-topup:{data['token']}",
                payment_method=data["payment_method"],
                context=services.Context(store=form.pay_in_store),
            )
        except DomainError as problem:
            add_domain_error(form, problem, {"member_frozen": "member"})
        else:
            return htmx_redirect(request, reverse("ledger:topup_result", args=[txn.pk]))
    return render_top_up(request, {"form": form})


def top_up_or_404(actor: Actor, pk: int) -> Transaction:
    txn = selectors.top_up(actor.merchant, pk)
    if txn is None or txn.member_id is None:
        raise Http404(_("Top-up not found"))
    # A store-bound role sees only its own store's members, and so their top-ups.
    txn.member = member_or_404(actor, txn.member_id)
    return txn


@may_top_up
@require_GET
def top_up_result(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    txn = top_up_or_404(actor, pk)
    credited = {entry.asset: entry.amount for entry in txn.entries.filter(member=txn.member)}
    # The balance right after this top-up (read from the entries), so a reprint later shows
    # the same receipt.
    after = selectors.member_balances(txn.member, as_of=txn.occurred_at)["stored_value"]
    context = {
        "txn": txn,
        "member": txn.member,
        # The slip goes home with the member: never the whole mobile on paper (F-45).
        "receipt_mobile": mask_mobile(txn.member.mobile),
        "principal": credited.get(Asset.PRINCIPAL, 0),
        "bonus": credited.get(Asset.BONUS, 0),
        "after": after,
        "payment_label": PaymentMethod.label(txn.reason),
        "cashier": who_did(txn),
    }
    return render(request, "ledger/topup_result.html", context)


# --- liabilities -----------------------------------------------------------------------------


@dataclass
class LiabilityRow:
    store_code: str | None
    store_name: str
    principal: int
    bonus: int
    points: int
    points_value: int

    @property
    def stored_value(self) -> int:
        return self.principal + self.bonus

    @property
    def total_value(self) -> int:
        return self.stored_value + self.points_value


@dataclass
class LiabilityReport:
    as_of: dt.datetime | None
    rows: list[LiabilityRow]
    total: LiabilityRow
    redeem_points: int
    redeem_value: int


def points_value(points: int, redeem: dict[str, int]) -> int:
    """What outstanding points are worth in fen at the cash-redemption rate (half-up)."""
    return div_round_half_up(points * redeem["value"], redeem["points"])


def liability_report(actor: Actor, as_of: dt.datetime | None) -> LiabilityReport:
    bound = actor.store_bound
    store_ids = [bound.pk] if bound is not None else None
    redeem = services.policy_for(actor.merchant).points_policy()["redeem_cash"]
    rows = [
        LiabilityRow(
            store_code=item.store_code,
            store_name=item.store_name or _("No store (registered at HQ)"),
            principal=item.principal,
            bonus=item.bonus,
            points=item.points,
            points_value=points_value(item.points, redeem),
        )
        for item in selectors.liabilities(actor.merchant, as_of, store_ids)
    ]
    all_points = sum(row.points for row in rows)
    total = LiabilityRow(
        store_code=None,
        store_name=_("Total"),
        principal=sum(row.principal for row in rows),
        bonus=sum(row.bonus for row in rows),
        points=all_points,
        # Valued once on the total, so the total is the rate applied to all points (the
        # per-store values may differ from it by rounding, by at most half a fen per store).
        points_value=points_value(all_points, redeem),
    )
    return LiabilityReport(as_of, rows, total, redeem["points"], redeem["value"])


def liability_moment(form: LiabilitiesForm) -> dt.datetime | None:
    """The end of the chosen day in the merchant's zone; None (now) without a valid day."""
    if not form.is_bound or not form.is_valid():
        return None
    day = form.cleaned_data.get("as_of")
    return end_of_day(day) if day else None


@may_see_liabilities
@require_GET
def liabilities(request: HttpRequest) -> HttpResponse:
    form = LiabilitiesForm(request.GET or None)
    as_of = liability_moment(form)
    context = {
        "form": form,
        "report": liability_report(request.actor, as_of),
        "now": timezone.now(),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "ledger/liabilities.html", context)


def yuan_number(fen: int) -> Decimal:
    """Fen as an exact decimal number of yuan, for a spreadsheet cell."""
    return Decimal(fen) / 100


def liability_workbook(report: LiabilityReport, title: str, moment: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Liabilities")[:31]
    sheet.append([title])
    sheet.append([moment])
    sheet.append(
        [
            _("Store code"),
            _("Store"),
            _("Principal (yuan)"),
            _("Bonus (yuan)"),
            _("Stored value (yuan)"),
            _("Points"),
            _("Points value (yuan)"),
        ]
    )
    header_row = sheet.max_row
    for row in [*report.rows, report.total]:
        sheet.append(
            [
                row.store_code or "",
                str(row.store_name),
                yuan_number(row.principal),
                yuan_number(row.bonus),
                yuan_number(row.stored_value),
                row.points,
                yuan_number(row.points_value),
            ]
        )
    bold = Font(bold=True)
    for cell in (*sheet[1], *sheet[header_row], *sheet[sheet.max_row]):
        cell.font = bold
    for column in ("C", "D", "E", "G"):
        for cell in sheet[column][header_row:]:
            cell.number_format = "#,##0.00"
    for cell in sheet["F"][header_row:]:
        cell.number_format = "#,##0"
    for column, width in zip("ABCDEFG", (12, 24, 16, 16, 18, 14, 18), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@may_see_liabilities
@require_GET
def liabilities_export(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = LiabilitiesForm(request.GET or None)
    as_of = liability_moment(form)
    report = liability_report(actor, as_of)
    shown = timezone.localtime(as_of or timezone.now())
    moment = _("As of %(moment)s (%(zone)s)") % {
        "moment": shown.strftime("%Y-%m-%d %H:%M:%S"),
        "zone": actor.merchant.timezone,
    }
    title = _("Outstanding stored value and points of %(merchant)s") % {
        "merchant": actor.merchant.name
    }
    response = HttpResponse(liability_workbook(report, title, moment), content_type=XLSX_TYPE)
    name = f"liabilities-{shown:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
