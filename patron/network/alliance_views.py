"""Console pages of alliances (F-42): the list with the invitation form and the buttons that
move an alliance along, the monthly clearing statement (and its xlsx), and the counter's
exchange of a member's points (a preview of what the partner credits, then the move)."""

from __future__ import annotations

import uuid
from io import BytesIO

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patron.core import months
from patron.core.errors import DomainError, NotFound
from patron.ledger.services import quick_balances
from patron.members.models import Member
from patron.members.selectors import shown_mobile
from patron.network import alliance_selectors as selectors
from patron.network import alliance_services as services
from patron.network.alliance_forms import ExchangeForm, InviteForm
from patron.network.models import Alliance
from patron.sales.services import identify_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

MANAGE_ROLES = (Role.HQ_ADMIN,)
VIEW_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


def _alliance_or_404(actor: Actor, pk: int) -> Alliance:
    try:
        return selectors.alliance_for(actor, pk)
    except NotFound:
        raise Http404(_("Not found")) from None


def rate_in_words(alliance: Alliance, actor: Actor) -> str:
    ours, theirs = alliance.rate_points, alliance.rate_partner_points
    if actor.merchant.pk != alliance.proposer_id:
        ours, theirs = theirs, ours
    return _("%(ours)s of our points = %(theirs)s of theirs") % {"ours": ours, "theirs": theirs}


def value_in_words(alliance: Alliance) -> str:
    return _("%(points)s points issued are worth ¥%(yuan)s") % {
        "points": alliance.value_points,
        "yuan": f"{alliance.value_amount / 100:.2f}",
    }


def next_actions(alliance: Alliance, actor: Actor) -> list[tuple[str, str, str]]:
    """(action, button label, confirmation question) the actor may take now."""
    if actor.role not in MANAGE_ROLES:
        return []
    other = services.other_side(alliance, actor.merchant).name
    labels = {
        "accept": (_("Accept"), _("Accept the alliance with %s?") % other),
        "decline": (_("Decline"), _("Decline the alliance with %s?") % other),
        "pause": (
            _("Pause"),
            _("Pause the alliance with %s? Exchanges stop until resumed.") % other,
        ),
        "resume": (_("Resume"), _("Resume the alliance with %s?") % other),
        "end": (
            _("End"),
            _("End the alliance with %s? Points moved and statements stay; it cannot resume.")
            % other,
        ),
    }
    found = []
    for action, (sources, _target, who) in services.TRANSITIONS.items():
        if alliance.status not in sources:
            continue
        if who == "partner" and actor.merchant.pk != alliance.partner_id:
            continue
        found.append((action, *labels[action]))
    return found


def _rows(actor: Actor) -> list[dict]:
    return [
        {
            "alliance": alliance,
            "other": services.other_side(alliance, actor.merchant),
            "ours": actor.merchant.pk == alliance.proposer_id,
            "rate": rate_in_words(alliance, actor),
            "value": value_in_words(alliance),
            "actions": next_actions(alliance, actor),
        }
        for alliance in selectors.alliances_for(actor)[:200]
    ]


@require_http_methods(["GET", "POST"])
@require_role(*VIEW_ROLES)
def alliance_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = InviteForm(request.POST or None) if actor.role in MANAGE_ROLES else None
    if request.method == "POST":
        if form is None:
            raise Http404(_("Not found"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = services.propose(
                    actor,
                    data["partner"],
                    data["points"],
                    data["partner_points"],
                    data["value_points"],
                    data["value_amount"],
                )
            except DomainError as problem:
                _form_errors(form, problem)
            else:
                messages.success(request, _("Invitation sent to %s.") % made.partner.name)
                return redirect("alliances:list")
    context = {"rows": _rows(actor), "form": form, "may_manage": actor.role in MANAGE_ROLES}
    return render(request, "network/alliances/list.html", context)


def _form_errors(form, problem: DomainError) -> None:
    names = {"rate.points": "points", "rate.partner_points": "partner_points"}
    names |= {"value.points": "value_points", "value.amount": "value_amount"}
    if not problem.errors:
        form.add_error(None, str(problem.detail))
    for error in problem.errors:
        field = names.get(error.field, error.field)
        form.add_error(field if field in form.fields else None, str(error.message))


@require_POST
@require_role(*MANAGE_ROLES)
def alliance_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = request.actor
    alliance = _alliance_or_404(actor, pk)
    if action not in services.TRANSITIONS:
        raise Http404(_("Not found"))
    try:
        services.act(actor, alliance, action)
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        other = services.other_side(alliance, actor.merchant).name
        messages.success(
            request,
            _("The alliance with %(other)s was %(action)s.")
            % {"other": other, "action": services.action_label(action)},
        )
    return redirect("alliances:list")


def _this_month(actor: Actor) -> str:
    return months.this_month(timezone.get_current_timezone())


@require_GET
@require_role(*MANAGE_ROLES)
def alliance_statement(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    alliance = _alliance_or_404(actor, pk)
    month = request.GET.get("month") or _this_month(actor)
    try:
        view = services.statement(alliance, month)
    except DomainError as problem:
        messages.error(request, str(problem.detail))
        view = services.statement(alliance, _this_month(actor))
    names = {side: merchant.name for side, merchant in view.merchants.items()}
    rows = [
        {"row": row, "source": names[row.source], "destination": names[row.destination]}
        for row in view.figures.rows
    ]
    if request.GET.get("format") == "xlsx":
        return _statement_xlsx(view, rows)
    zone = timezone.get_current_timezone()
    exchanges = [
        {
            "exchange": e,
            "at": timezone.localtime(e.created_at, zone),
            "source": names[_side(alliance, e.source_id)],
            "destination": names[_side(alliance, e.destination_id)],
        }
        for e in view.exchanges
    ]
    context = {
        "alliance": alliance,
        "other": services.other_side(alliance, actor.merchant),
        "view": view,
        "rows": rows,
        "payer": names.get(view.figures.payer or ""),
        "payee": names.get(view.figures.payee or ""),
        "nets": [(names[side], amount) for side, amount in view.figures.net.items()],
        "exchanges": exchanges,
        "previous": _shift(view.month, -1),
        "next": _shift(view.month, 1),
        "value": value_in_words(alliance),
    }
    return render(request, "network/alliances/statement.html", context)


def _side(alliance: Alliance, merchant_id: int) -> str:
    return "proposer" if merchant_id == alliance.proposer_id else "partner"


def _shift(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _statement_xlsx(view: services.StatementView, rows: list[dict]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = view.month
    sheet.append(
        [
            pgettext("alliance", "From"),
            pgettext("alliance", "To"),
            _("Points out"),
            _("Points in"),
            _("Exchanges"),
            _("Owed (yuan)"),
        ]
    )
    for item in rows:
        row = item["row"]
        sheet.append(
            [
                item["source"],
                item["destination"],
                row.points_out,
                row.points_in,
                row.exchanges,
                row.amount / 100,
            ]
        )
    names = {side: merchant.name for side, merchant in view.merchants.items()}
    if view.figures.payer:
        sheet.append([])
        sheet.append(
            [
                _("Payer"),
                names[view.figures.payer],
                _("Payee"),
                names[view.figures.payee or ""],
                "",
                view.figures.amount / 100,
            ]
        )
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="alliance-{view.alliance.pk}-{view.month}.xlsx"'
    )
    return response


@require_http_methods(["GET", "POST"])
@require_role(*VIEW_ROLES)
def alliance_exchange(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form; POST without `confirm`: the preview; POST with `confirm`: the move."""
    actor = request.actor
    alliance = _alliance_or_404(actor, pk)
    other = services.other_side(alliance, actor.merchant)
    # ?member= from the member page's alliance panel fills the member in.
    asked = request.GET.get("member", "")[:40]
    form = ExchangeForm(request.POST or None, initial={"nonce": uuid.uuid4().hex, "member": asked})
    context: dict = {"alliance": alliance, "other": other, "form": form}
    context["rate"] = rate_in_words(alliance, actor)
    if request.method == "POST" and form.is_valid():
        try:
            # Chain-wide, as at the till: a member of any store may ask at this counter.
            member = identify_member(actor, form.cleaned_data["member"])
        except DomainError:
            form.add_error("member", _("No member with this mobile or card number."))
            return render(request, "network/alliances/exchange.html", context)
        points = form.cleaned_data["points"]
        try:
            preview = services.preview(actor, alliance, member, points)
            if request.POST.get("confirm") == "1":
                made = services.exchange(
                    actor,
                    alliance,
                    member,
                    points,
                    key=f"console:{form.cleaned_data['nonce']}",
                    store=actor.store_bound,
                )
                messages.success(
                    request,
                    _("%(out)s points moved; %(other)s credited %(in)s points to card %(card)s.")
                    % {
                        "out": made.points_out,
                        "in": made.points_in,
                        "other": other.name,
                        "card": made.member_at_destination.card_no,
                    },
                )
                return redirect(reverse("alliances:exchange", args=[alliance.pk]))
        except DomainError as problem:
            field = "points" if any(e.field == "points" for e in problem.errors) else None
            form.add_error(field, str(problem.detail))
            return render(request, "network/alliances/exchange.html", context)
        context |= {
            "member": member,
            "mobile": shown_mobile(actor, member),
            "held": quick_balances(member)["points"],
            "preview": preview,
        }
    return render(request, "network/alliances/exchange.html", context)


def member_panel(request: HttpRequest, member: Member) -> SafeString | str:
    """The member page's "Alliance partners" card (a members.profile panel): their card at each
    active partner, the points moved each way, and the counter's exchange for this member."""
    actor: Actor = request.actor
    if actor.role not in VIEW_ROLES:
        return ""
    partners = list(
        selectors.active_partners(actor.merchant.pk).select_related("proposer", "partner")
    )
    exchanges = list(selectors.member_exchanges(member)[:5])
    if not partners and not exchanges:
        return ""
    twins = selectors.member_twins(member)
    rows = []
    for alliance in partners:
        other = services.other_side(alliance, actor.merchant)
        rows.append({"alliance": alliance, "other": other, "twin": twins.get(other.pk)})
    context = {"member": member, "rows": rows, "exchanges": exchanges, "here": actor.merchant.pk}
    return render_to_string("network/alliances/_member.html", context, request=request)
