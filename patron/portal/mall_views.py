"""The points mall on the member pages: rewards (those the member can redeem first), a confirm
page that redeems, "my redemptions" with their status. The cash part of a reward is paid in
the store when it is handed over (it stays due until fulfilment)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from patron.activities import mall, mall_selectors
from patron.core.errors import DomainError
from patron.portal import once
from patron.portal.session import member_actor, member_page

SHOWN_REDEMPTIONS = 20


def _context(request: HttpRequest, **more) -> dict:
    return {"merchant": request.merchant, "member": request.member, "tab": "card", **more}


@member_page
@require_GET
def mall_list(request: HttpRequest) -> HttpResponse:
    member = request.member
    redemptions = list(mall_selectors.member_redemptions(member)[:SHOWN_REDEMPTIONS])
    context = _context(
        request,
        points=mall_selectors.member_points(member),
        rewards=mall_selectors.member_rewards(member),
        redemptions=[(r, mall_selectors.status_label(r)) for r in redemptions],
    )
    return render(request, "portal/mall.html", context)


@member_page
@require_http_methods(["GET", "POST"])
def mall_reward(request: HttpRequest, code: str) -> HttpResponse:
    member = request.member
    row = next((r for r in mall_selectors.member_rewards(member) if r.reward.code == code), None)
    if row is None:
        raise Http404
    error = ""
    if request.method == "POST":
        key = once.posted(request, "portal-mall")
        if not key:
            error = once.expired()
        else:
            try:
                done = mall.redeem(member_actor(member, request), member, row.reward, key=key)
            except DomainError as problem:
                error = str(problem.detail)
            else:
                messages.success(
                    request,
                    _("Redeemed %(reward)s for %(points)s points.")
                    % {"reward": done.reward.name, "points": done.points},
                )
                return redirect("portal:mall")
    context = _context(
        request,
        row=row,
        points=mall_selectors.member_points(member),
        key=once.new_key(),
        error=error,
    )
    return render(request, "portal/mall_reward.html", context)
