"""Console page of check-in and referral (/activities/checkin/): check-ins today and over the
last 7 days, the rules in force, and this month's referral leaderboard (members by name and
masked mobile: a leaderboard is no place for personal data)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from patron.activities import checkin, referral
from patron.activities.checkin_program import policy
from patron.activities.models import CheckIn, ReferralReward
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

may_see = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
DAYS = 7


def _days(actor: Actor, today: dt.date) -> list[dict]:
    first = today - dt.timedelta(days=DAYS - 1)
    found = {
        row["day"]: row
        for row in CheckIn.objects.filter(merchant=actor.merchant, day__gte=first, day__lte=today)
        .values("day")
        .annotate(members=Count("id"), points=Sum("points"), bonus=Sum("bonus"))
    }
    return [
        {
            "day": day,
            "members": found.get(day, {}).get("members", 0),
            "points": (found.get(day, {}).get("points") or 0)
            + (found.get(day, {}).get("bonus") or 0),
        }
        for day in (today - dt.timedelta(days=n) for n in range(DAYS))
    ]


@may_see
def overview(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    today = checkin.local_today(actor.merchant)
    month = today.strftime("%Y-%m")
    days = _days(actor, today)
    rewards = ReferralReward.objects.filter(merchant=actor.merchant, month=month)
    by_status = dict(rewards.values_list("status").annotate(n=Count("id")))
    board = [
        {"rank": rank, "member": m, "mobile": mask_mobile(m.mobile), "rewarded": m.rewarded}
        for rank, m in enumerate(referral.leaderboard(actor.merchant.pk, month), start=1)
    ]
    config = checkin.rules(actor.merchant.pk)
    context = {
        "today": days[0],
        "days": days,
        "week_members": sum(d["members"] for d in days),
        "month": today,
        "rewarded": by_status.get(ReferralReward.Status.REWARDED, 0),
        "capped": by_status.get(ReferralReward.Status.CAPPED, 0),
        "revoked": by_status.get(ReferralReward.Status.REVOKED, 0),
        "board": board,
        "checkin": config,
        "referral": policy(actor.merchant.pk).referral,
    }
    return render(request, "activities/checkin/overview.html", context)
