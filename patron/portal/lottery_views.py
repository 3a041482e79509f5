"""Activities (issue 19) on the member pages:
lotteries on the member pages: published odds, draw.

/m/lottery lists the lotteries open now; /m/lottery/<code> publishes each prize's name and odds,
the cost, the draws left today and the member's points, with a draw button (a plain POST form
with a one-time key, so a double tap draws once) and the result of the draw just made.

Owner: the lottery part."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from patron.activities import lottery as services
from patron.activities.models import Draw, Lottery, PrizeKind
from patron.core.errors import DomainError
from patron.ledger.services import quick_balances
from patron.portal import once
from patron.portal.session import member_actor, member_page


def _open_lotteries(merchant) -> list[Lottery]:
    found = Lottery.objects.filter(merchant=merchant, is_active=True).order_by("code")
    return [lottery for lottery in found if services.is_open(lottery)]


@never_cache
@require_GET
@member_page
def lottery_list(request: HttpRequest) -> HttpResponse:
    context = {
        "merchant": request.merchant,
        "member": request.member,
        "tab": "card",
        "lotteries": _open_lotteries(request.merchant),
    }
    return render(request, "portal/lottery_list.html", context)


def _prizes(lottery: Lottery) -> list[dict]:
    return [
        {
            "code": prize.code,
            "name": services.prize_name(prize),
            "odds": f"{prize.odds.normalize():f}",
        }
        for prize in lottery.prizes.filter(is_active=True).order_by("position", "pk")
        if prize.odds > 0
    ]


def _result(request: HttpRequest, lottery: Lottery) -> dict | None:
    """The draw named by ?draw=, when it is this member's on this lottery."""
    ref = request.GET.get("draw", "")
    if not ref.isdigit():
        return None
    record = Draw.objects.filter(pk=int(ref), member=request.member, lottery=lottery).first()
    if record is None:
        return None
    prize = lottery.prizes.filter(code=record.prize_code).first()
    won = record.prize_kind != PrizeKind.NONE
    return {
        "won": won,
        "name": services.prize_name(prize) if prize and won else "",
        "coupon": record.coupon.code if record.coupon_id else "",
        "points": record.points,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@member_page
def lottery_detail(request: HttpRequest, code: str) -> HttpResponse:
    member = request.member
    lottery = Lottery.objects.filter(merchant=request.merchant, code=code, is_active=True).first()
    if lottery is None:
        raise Http404
    error = ""
    if request.method == "POST":
        key = once.posted(request, "portal-draw")
        if not key:
            error = once.expired()
        else:
            try:
                record = services.draw(member_actor(member, request), member, code, key=key)
            except DomainError as problem:
                error = str(problem.detail)
            else:
                url = reverse("portal:lottery", args=[code])
                return redirect(f"{url}?draw={record.pk}")
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "card",
        "lottery": lottery,
        "open": services.is_open(lottery),
        "prizes": _prizes(lottery),
        "left": services.draws_left_today(lottery, member),
        "points": quick_balances(member)["points"],
        "result": None if error else _result(request, lottery),
        "key": once.new_key(),
        "error": error,
    }
    return render(request, "portal/lottery.html", context, status=422 if error else 200)
