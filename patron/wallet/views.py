"""Console pages for a member's stored value and points (F-13 … F-19, F-46).

A member's balances and ledger history, manual point adjustments, and top-ups at the store
with a preview of the bonus. Members are found through the scoped member selectors (a
store-bound role sees its own store's members only; anyone else's member is "not found");
every write goes through `patron.ledger.services` under a one-time token, so a double click is
one movement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from patron.core.counting import row_count
from patron.core.dates import end_of_day, start_of_day
from patron.core.errors import DomainError
from patron.core.htmx import htmx_redirect, wants_fragment
from patron.core.keyset import console_page
from patron.engine.stored_value import BonusRow, topup_bonus
from patron.ledger import references, selectors, services
from patron.ledger.models import Asset, Entry, PointsHold, PointsLot, Shortfall, Transaction
from patron.members.models import Member
from patron.members.selectors import member_or_404, shown_mobile
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import console_view, require_role
from patron.tenancy.selectors import acting_for
from patron.wallet import services as wallet
from patron.wallet.forms import AdjustPointsForm, HistoryFilterForm, PaymentMethod, TopUpForm

HISTORY_PAGE_SIZE = 50
HISTORY_ORDERING = selectors.MEMBER_ENTRIES_ORDERING
EXPIRING_SOON_DAYS = 30
LOTS_SHOWN = 200
RECENT_SHOWN = 5  # movements on the member page's card
ADJUSTING_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
TOP_UP_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)

may_adjust = require_role(*ADJUSTING_ROLES)
may_top_up = require_role(*TOP_UP_ROLES)


# --- shared helpers --------------------------------------------------------------------------


def who_did(txn: Transaction) -> str:
    """The person, API key or system process behind a movement (F-46)."""
    if txn.user_id:
        return txn.user.get_full_name() or txn.user.get_username()
    if txn.api_key_id:
        return _("API key %(name)s") % {"name": txn.api_key.name}
    return _("System")


def shown_reason(txn: Transaction) -> str:
    """What the movement's words leave out: how a top-up was paid, what an adjustment was
    for, what a bare reversal undid ("" when the reason is one of the services' fixed codes)."""
    # A top-up stores its payment method as the reason unless the caller gave one.
    if txn.kind == Transaction.Kind.TOPUP and PaymentMethod.is_known(txn.reason):
        return _("Paid by %(method)s") % {"method": PaymentMethod.label(txn.reason)}
    if txn.kind == Transaction.Kind.EXPIRE:
        return ""  # the kind says it all; the stored reason is a fixed code
    if txn.kind == Transaction.Kind.REVERSAL and txn.reverses_id and not txn.reason:
        return _("Reverses #%(id)s") % {"id": txn.reverses_id}
    return references.typed_note(txn.reason)


# --- member balances page --------------------------------------------------------------------


@dataclass
class HistoryRow:
    entry: Entry
    kind: str
    asset: str
    store: str
    who: str
    reason: str  # 销售, 退款, 充值 …
    note: str  # what a person typed, or how a top-up was paid
    reference: references.Reference | None  # the receipt or slip it came from


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


def history_rows(actor: Actor, entries: list[Entry]) -> list[HistoryRow]:
    """Ledger entries as the pages show them, with the receipt or slip each one links to (one
    query per kind of source for the whole page)."""
    links = references.references(actor, {entry.transaction for entry in entries})
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
                reason=references.reason_words(txn.kind, txn.source),
                note=shown_reason(txn),
                reference=links.get(txn.pk),
            )
        )
    return rows


@dataclass
class CausedRow:
    """A pending points hold or a shortfall, with what caused it in words and its link."""

    item: Any
    reason: str
    reference: references.Reference | None
    note: str = ""


def hold_rows(actor: Actor, holds: list[PointsHold]) -> list[CausedRow]:
    links = references.references(actor, holds)  # keyed by the hold's id
    return [
        CausedRow(
            hold,
            references.reason_words(Transaction.Kind.EARN, hold.source),
            links.get(hold.pk),
            references.typed_note(hold.reason),
        )
        for hold in holds
    ]


def shortfall_rows(actor: Actor, shortfalls: list[Shortfall]) -> list[CausedRow]:
    links = references.references(actor, [shortfall.transaction for shortfall in shortfalls])
    return [
        CausedRow(
            shortfall,
            references.reason_words(shortfall.transaction.kind, shortfall.transaction.source),
            links.get(shortfall.transaction_id),
            references.typed_note(shortfall.transaction.reason),
        )
        for shortfall in shortfalls
    ]


def recent_rows(actor: Actor, member: Member) -> list[HistoryRow]:
    return history_rows(actor, list(selectors.member_entries(member, None)[:RECENT_SHOWN]))


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
    shown = console_page(entries, HISTORY_ORDERING, HISTORY_PAGE_SIZE, request.GET.get("cursor"))
    balances = selectors.member_balances(member)
    may_adjust_points = actor.role in ADJUSTING_ROLES
    if may_adjust_points and adjust_form is None:
        adjust_form = AdjustPointsForm()
    show_all_lots = request.GET.get("lots") == "all"
    holds = selectors.pending_holds(member)
    shortfalls = selectors.member_shortfalls(member)
    return {
        "member": member,
        "mobile": shown_mobile(actor, member),
        "balances": balances,
        "expiring_soon": expiring_soon(balances),
        "lots": lot_rows(member, show_all_lots),
        "show_all_lots": show_all_lots,
        "lots_limit": LOTS_SHOWN,
        "holds": holds,
        "hold_rows": hold_rows(actor, list(holds)),
        "shortfalls": shortfalls,
        "shortfall_rows": shortfall_rows(actor, list(shortfalls)),
        "filters": filters,
        "page": shown.page,
        "cursor_ignored": shown.ignored,
        "count": row_count(entries),
        "rows": history_rows(actor, shown.page.items),
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
        response = render(request, "wallet/_history.html", context)
    else:
        response = render(request, "wallet/member.html", context)
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
            form.add_service_errors(problem)
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
            return redirect("wallet:member", pk=member.pk)
    return render(request, "wallet/member.html", member_page_context(request, member, form))


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
    template = "wallet/_topup_panel.html" if wants_fragment(request) else "wallet/topup.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def entry_form_again(request: HttpRequest) -> TopUpForm:
    """'Change' on the preview: the entry form with what was typed, not yet checked."""
    fields = ("member", "amount", "payment_method", "store", "staff")
    initial = {name: request.POST.get(name, "") for name in fields}
    return TopUpForm(actor=request.actor, initial=initial)


@may_top_up
def top_up(request: HttpRequest) -> HttpResponse:
    """Entry (GET) -> preview (POST step=preview) -> confirm (POST step=confirm) -> result."""
    actor = request.actor
    if request.method != "POST":
        # ?member= only fills the input in (a link from the member's page); a NUL is no
        # keyboard's and would reach the page, so such a value fills nothing.
        lookup = request.GET.get("member", "")[:32]
        initial = {"member": "" if "\x00" in lookup else lookup}
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
            txn = wallet.top_up(
                acting_for(actor, data.get("staff"), form.pay_in_store),
                data["member"],
                data["amount"],
                key=f"console-topup:{data['token']}",
                payment_method=data["payment_method"],
                context=services.Context(store=form.pay_in_store),
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            return htmx_redirect(request, reverse("wallet:topup_result", args=[txn.pk]))
    return render_top_up(request, {"form": form})


def top_up_or_404(actor: Actor, pk: int) -> Transaction:
    txn = selectors.top_up(actor, pk)
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
    return render(request, "wallet/topup_result.html", context)


# --- the card on the member's page -----------------------------------------------------------


def value_panel(request: HttpRequest, member: Member) -> SafeString:
    """The 'Stored value & points' card of the member detail page (a members.profile panel)."""
    context = {
        "member": member,
        "balances": selectors.member_balances(member),
        "recent": recent_rows(request.actor, member),
    }
    return render_to_string("wallet/_member_card.html", context, request=request)
