"""Lotteries in the console (/activities/lotteries/): each lottery's budget spent and left, draws
today and prizes given; a lottery's draws (member masked by role, seed, prize) and, per draw,
its replay from the seed (`verify`). Lotteries are set in the program file (`lotteries`)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from patron.activities import lottery as services
from patron.activities.models import Draw, Lottery
from patron.members.selectors import shown_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

VIEW_ROLES = (Role.HQ_ADMIN, Role.MARKETER, Role.STORE_MANAGER)
PAGE_SIZE = 50


def _lottery_or_404(actor: Actor, code: str) -> Lottery:
    lottery = Lottery.objects.filter(merchant=actor.merchant, code=code).first()
    if lottery is None:
        raise Http404
    return lottery


def _summary(lottery: Lottery) -> dict:
    given = services.prize_counts(lottery)
    prizes = [
        {
            "prize": prize,
            "name": services.prize_name(prize),
            "odds": f"{prize.odds.normalize():f}",
            "given": given.get(prize.code, 0),
            "left": None if prize.stock is None else prize.stock - prize.given,
        }
        for prize in lottery.prizes.filter(is_active=True).order_by("position", "pk")
    ]
    return {
        "lottery": lottery,
        "open": lottery.is_active and services.is_open(lottery),
        "today": services.draws_today(lottery),
        "prizes": prizes,
    }


@require_GET
@require_role(*VIEW_ROLES)
def lottery_list(request: HttpRequest) -> HttpResponse:
    found = Lottery.objects.filter(merchant=request.actor.merchant).order_by("-is_active", "code")
    rows = [_summary(lottery) for lottery in found]
    return render(request, "activities/lottery/list.html", {"rows": rows})


def _draw_rows(actor: Actor, lottery: Lottery, draws) -> list[dict]:
    names = {p.code: services.prize_name(p) for p in lottery.prizes.all()}
    return [
        {
            "draw": record,
            "member": record.member,
            "mobile": shown_mobile(actor, record.member),
            "prize": names.get(record.prize_code, record.prize_code),
        }
        for record in draws
    ]


@require_GET
@require_role(*VIEW_ROLES)
def lottery_detail(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.actor
    lottery = _lottery_or_404(actor, code)
    draws = Draw.objects.filter(lottery=lottery).select_related("member", "odds")
    page = Paginator(draws.order_by("-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "lottery": lottery,
        "summary": _summary(lottery),
        "page": page,
        "draws": _draw_rows(actor, lottery, page.object_list),
    }
    return render(request, "activities/lottery/detail.html", context)


@require_GET
@require_role(*VIEW_ROLES)
def draw_verify(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    actor = request.actor
    lottery = _lottery_or_404(actor, code)
    record = Draw.objects.filter(lottery=lottery, pk=pk).select_related("member", "odds").first()
    if record is None:
        raise Http404
    check = services.verify(record)
    names = {p.code: services.prize_name(p) for p in lottery.prizes.all()}
    reached = 0
    shares = []
    for prize_code, share in record.odds.shares:
        shares.append(
            {
                "code": prize_code,
                "name": names.get(prize_code, prize_code),
                "from": reached,
                "to": reached + share - 1,
                "percent": f"{share / 10_000:g}",
                "hit": reached <= check.ticket < reached + share,
            }
        )
        reached += share
    context = {
        "lottery": lottery,
        "draw": record,
        "mobile": shown_mobile(actor, record.member),
        "check": check,
        "shares": shares,
        "drawn_name": names.get(record.drawn, record.drawn),
        "prize_name": names.get(record.prize_code, record.prize_code),
    }
    return render(request, "activities/lottery/verify.html", context)
