"""What the stats part of insight registers with the apps below and the refresh: the stats
refresh step, and the member's windows and stage kept current by their own sales and
refunds (in the sale's transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from patron.insight import lifecycle, stats
from patron.insight.refresh import add_step
from patron.members import hooks
from patron.members.models import Member
from patron.tenancy.actor import Actor

KINDS = ("sale", "refund")


def on_activity(actor: Actor, member: Member, kind: str, detail: Mapping[str, Any]) -> None:
    """A sale or refund rescores its member at once: one upsert of the windows (reading the
    member's sales by their (member, occurred_at) index) and, only when the stage moves, its
    update and LifecycleChange row."""
    if kind not in KINDS:
        return
    now = timezone.now()
    window = stats.refresh_member(member, now)
    lifecycle.rescore_member(member, window, now)


def register() -> None:
    """Called once from InsightConfig.ready()."""
    add_step("stats", 10, stats.stats_step)
    hooks.add_activity_handler(on_activity)
