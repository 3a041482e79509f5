"""Lifecycle, RFM and purchase cycle where members are shown: the API body's `lifecycle`,
`rfm` and `cycle_days` facts (lists load them in the same query), the member page's card and
the member list's sortable lifecycle column."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.insight.lifecycle import STAGES
from patron.insight.models import Lifecycle, MemberInsight
from patron.insight.program import stored_policy
from patron.members import profile
from patron.members.models import Member

# The list sorts stages from the most to the least engaged, not by their codes.
STAGE_ORDER = {stage.value: position for position, stage in enumerate(STAGES, start=1)}


def insight_of(member: Member) -> MemberInsight | None:
    try:
        return member.insight
    except MemberInsight.DoesNotExist:
        return None


def with_insight(members: QuerySet[Member]) -> QuerySet[Member]:
    return members.select_related("insight")


# --- API facts -------------------------------------------------------------------------------


def lifecycle_fact(member: Member) -> str | None:
    found = insight_of(member)
    return found.lifecycle if found is not None and found.lifecycle else None


def rfm_fact(member: Member) -> dict[str, Any] | None:
    found = insight_of(member)
    if found is None or not found.rfm:
        return None
    return {"r": found.r, "f": found.f, "m": found.m, "cell": found.rfm}


def cycle_fact(member: Member) -> float | None:
    found = insight_of(member)
    if found is None or found.cycle_days is None:
        return None
    return round(found.cycle_days, 2)


# --- the member page -------------------------------------------------------------------------


def score_words(score: int | None) -> str:
    """Where a quintile score puts the member among the merchant's buyers."""
    words = {
        5: _("top fifth"),
        4: _("second fifth"),
        3: _("middle fifth"),
        2: _("fourth fifth"),
        1: _("bottom fifth"),
    }
    return words.get(score or 0, "—")


def scores_panel(request: HttpRequest, member: Member) -> SafeString:
    found = insight_of(member)
    policy = stored_policy(member.merchant_id)
    own_cycle = (
        found is not None
        and found.cycle_days is not None
        and found.purchase_days >= policy.min_visits
    )
    context = {
        "member": member,
        "insight": found,
        "stage": Lifecycle(found.lifecycle).label if found and found.lifecycle else "",
        "own_cycle": own_cycle,
        "policy": policy,
        "scores": [
            (_("Recency"), found.r, score_words(found.r)),
            (_("Frequency"), found.f, score_words(found.f)),
            (_("Monetary"), found.m, score_words(found.m)),
        ]
        if found is not None and found.rfm
        else [],
    }
    return render_to_string("insight/_member_scores.html", context, request=request)


# --- the member list -------------------------------------------------------------------------


def with_stage_order(members: QuerySet[Member]) -> QuerySet[Member]:
    order = Case(
        *(When(insight__lifecycle=code, then=Value(rank)) for code, rank in STAGE_ORDER.items()),
        default=Value(None),
        output_field=IntegerField(),
    )
    return members.select_related("insight").annotate(lifecycle_order=order)


def lifecycle_cell(member: Member) -> str:
    found = insight_of(member)
    if found is None or not found.lifecycle:
        return "—"
    return str(Lifecycle(found.lifecycle).label)


LIFECYCLE_COLUMN = profile.Column(
    name="lifecycle",
    label=gettext_lazy("Lifecycle"),
    prepare=with_stage_order,
    sort_key="lifecycle_order",
    cell=lifecycle_cell,
    order=35,
)
