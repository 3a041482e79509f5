"""Console pages of cards: the lookup (number, physical id, mobile), a card with its history,
the wizards (report lost, replace, exchange, bind, refund and close) and the member page's
"Cards" panel.

Who may do what (docs/cards.md): anyone at the counter (cashier, store manager, HQ) looks
cards up, reports them lost, binds a physical card, replaces and exchanges (a fee at the
counter); refunding and closing gives money back, so it needs a store manager or HQ. A
marketer may look but not act. A store-bound role sees its own store's members' cards only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from patron.cards import selectors, services
from patron.cards.forms import BindForm, CardSearchForm, RefundForm, ReplaceForm, ReportLostForm
from patron.cards.models import Card, CardStatus
from patron.core.errors import DomainError
from patron.ledger import payments
from patron.members.models import Member
from patron.members.selectors import shown_mobile
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

LOOKUP_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER, Role.MARKETER)
COUNTER_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)
REFUND_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)


@dataclass(frozen=True)
class Step:
    """One wizard: its form, who may use it, the card statuses it applies to."""

    name: str
    title: Any
    form: type
    roles: tuple[str, ...]
    statuses: tuple[str, ...]
    button: Any


STEPS = {
    "lost": Step(
        "lost",
        gettext_lazy("Report lost"),
        ReportLostForm,
        COUNTER_ROLES,
        (CardStatus.ACTIVE,),
        gettext_lazy("Report lost and freeze"),
    ),
    "replace": Step(
        "replace",
        gettext_lazy("Replace lost card"),
        ReplaceForm,
        COUNTER_ROLES,
        (CardStatus.LOST,),
        gettext_lazy("Issue the new card"),
    ),
    "exchange": Step(
        "exchange",
        gettext_lazy("Exchange damaged card"),
        ReplaceForm,
        COUNTER_ROLES,
        (CardStatus.ACTIVE,),
        gettext_lazy("Exchange the card"),
    ),
    "bind": Step(
        "bind",
        gettext_lazy("Bind physical card"),
        BindForm,
        COUNTER_ROLES,
        (CardStatus.ACTIVE,),
        gettext_lazy("Bind"),
    ),
    "refund": Step(
        "refund",
        gettext_lazy("Refund and close"),
        RefundForm,
        REFUND_ROLES,
        (CardStatus.ACTIVE, CardStatus.LOST),
        gettext_lazy("Refund and close the card"),
    ),
}


def card_or_404(request: HttpRequest, card_no: str) -> Card:
    card = selectors.card_for_number(request.actor, card_no)
    if card is None:
        raise Http404(_("Card not found"))
    return card


def actions_for(role: str | None, card: Card) -> list[Step]:
    return [step for step in STEPS.values() if role in step.roles and card.status in step.statuses]


@require_role(*LOOKUP_ROLES)
@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    form = CardSearchForm(request.GET or None)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    cards = selectors.search(request.actor, query) if query else []
    if len(cards) == 1 and request.GET.get("go") != "list":
        return redirect("cards:detail", card_no=cards[0].card_no)
    rows = [(card, shown_mobile(request.actor, card.member)) for card in cards]
    return render(request, "cards/lookup.html", {"form": form, "query": query, "rows": rows})


@require_role(*LOOKUP_ROLES)
@require_GET
def detail(request: HttpRequest, card_no: str) -> HttpResponse:
    card = card_or_404(request, card_no)
    return render(request, "cards/detail.html", detail_context(request, card))


def detail_context(request: HttpRequest, card: Card) -> dict[str, Any]:
    return {
        "card": card,
        "member": card.member,
        "mobile": shown_mobile(request.actor, card.member),
        "history": selectors.card_history(card),
        "replaces": Card.objects.filter(replaced_by_id=card.pk).first() if card.pk else None,
        "actions": actions_for(request.actor.role, card),
        "frozen": selectors.lost_cards(card.merchant_id, card.member_id),
    }


def wizard(request: HttpRequest, card_no: str, step_name: str) -> HttpResponse:
    step = STEPS.get(step_name)
    if step is None:
        raise Http404
    return _wizard(request, card_no, step)


def _wizard(request: HttpRequest, card_no: str, step: Step) -> HttpResponse:
    @require_role(*step.roles)
    def view(request: HttpRequest) -> HttpResponse:
        card = card_or_404(request, card_no)
        if card.status not in step.statuses:
            # A replaced or closed card, or a step that does not fit it (the API says why).
            messages.error(
                request,
                _("%(step)s does not apply to a card that is %(status)s.")
                % {"step": step.title, "status": card.get_status_display()},
            )
            return redirect("cards:detail", card_no=card.card_no)
        if request.method != "POST":
            form = step.form(initial={"token": ""})
            return render_wizard(request, card, step, form)
        form = step.form(request.POST)
        if request.POST.get("confirm") and form.is_valid():
            try:
                done = perform(request, card, step, form.cleaned_data)
            except DomainError as problem:
                form.add_service_errors(problem)
            else:
                return redirect("cards:detail", card_no=done.card_no)
        return render_wizard(request, card, step, form)

    return view(request)


def perform(request: HttpRequest, card: Card, step: Step, data: dict[str, Any]) -> Card:
    actor = request.actor
    key = f"console-card-{step.name}:{data['token']}"
    if step.name == "lost":
        done = services.report_lost(actor, card.card_no, reason=data.get("reason", ""), key=key)
        messages.success(
            request,
            _("Card %s reported lost: stored value and points are frozen until it is replaced.")
            % done.card_no,
        )
    elif step.name in ("replace", "exchange"):
        done = services.replace_card(
            actor,
            card.card_no,
            physical_id=data.get("physical_id"),
            payment_method=data.get("payment_method") or payments.CASH,
            damaged=step.name == "exchange",
            key=key,
        )
        messages.success(
            request,
            _("New card %(new)s issued in place of %(old)s.")
            % {"new": done.card_no, "old": card.card_no},
        )
    elif step.name == "bind":
        done = services.bind_physical_id(actor, card.card_no, data["physical_id"], key=key)
        messages.success(request, _("Physical card bound."))
    else:
        result = services.refund_card(
            actor,
            card.card_no,
            identity_checked=bool(data.get("identity_checked")),
            pin=data.get("pin") or None,
            payment_method=data.get("payment_method") or None,
            key=key,
        )
        done = result.card
        messages.success(request, _("Card %s refunded and closed.") % done.card_no)
    return done


def render_wizard(request: HttpRequest, card: Card, step: Step, form: Any) -> HttpResponse:
    context = {
        **detail_context(request, card),
        "step": step,
        "form": form,
        "token": form.token_value(),
        "fee": services.replace_fee(card) if step.name == "replace" else 0,
        "allowed_from": services.replace_allowed_from(card) if step.name == "replace" else None,
        "refund": services.preview_refund(card) if step.name == "refund" else None,
    }
    if step.name == "exchange":
        context["fee"] = services.replace_fee(card)
    status = 200 if not form.is_bound or form.is_valid() else 422
    return render(request, "cards/wizard.html", context, status=status)


def cards_panel(request: HttpRequest, member: Member) -> SafeString:
    """The member page's "Cards" card (a members.profile panel)."""
    role = request.actor.role
    rows = [(card, actions_for(role, card)) for card in selectors.member_cards(member)]
    context = {"member": member, "rows": rows, "may_open": role in LOOKUP_ROLES}
    return render_to_string("cards/_member_cards.html", context, request=request)
