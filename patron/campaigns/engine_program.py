"""The program file's `campaigns` section: merchant-wide defaults copied into a campaign when it
is created without its own (API.md §9), e.g.

    campaigns: {caps: {per_member_per_7d: 2}, quiet_hours: ["21:00", "09:00"], holdout_percent: 10,
                message_cost_fen: {sms: 5}}

The section replaces the current defaults whole; keys left out mean none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from django.utils.translation import gettext as _

from patron.campaigns.models import CampaignDefaults, Channel
from patron.campaigns.services import caps_errors, defaults_for, quiet_hours_errors
from patron.program.fields import Whole
from patron.program.schema import ProgramModel, Refusal
from patron.program.services import Plan, register_section
from patron.tenancy.actor import Actor

KEYS = ("caps", "quiet_hours", "holdout_percent", "message_cost_fen")


class Campaigns(ProgramModel):
    """Defaults for new campaigns: frequency cap, quiet hours, holdout, price of a message."""

    caps: dict[str, Any] = None
    quiet_hours: list[Any] = None
    holdout_percent: Annotated[int, Whole(0, 50)] = None
    message_cost_fen: dict[str, Annotated[int, Whole(0, 10**6)]] = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        for error in caps_errors(value.get("caps")) + quiet_hours_errors(value.get("quiet_hours")):
            yield tuple(error.field.split(".")), error.message
        for channel in value.get("message_cost_fen") or {}:
            if channel not in Channel.values:
                yield (
                    ("message_cost_fen", channel),
                    _("Unknown channel; choose one of: %s.") % ", ".join(Channel.values),
                )

    def cleaned(self) -> dict[str, Any]:
        given = self.given()
        return {
            "caps": given.get("caps") or {},
            "quiet_hours": given.get("quiet_hours") or [],
            "holdout_percent": given.get("holdout_percent"),
            "message_cost_fen": given.get("message_cost_fen") or {},
        }


def export_campaigns(actor: Actor) -> dict[str, Any]:
    defaults = defaults_for(actor.merchant)
    exported = {key: getattr(defaults, key) for key in KEYS}
    return {key: value for key, value in exported.items() if value not in (None, {}, [])}


def plan_campaigns(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    current = {key: getattr(defaults_for(actor.merchant), key) for key in KEYS}
    plan.settings(
        "campaigns",
        current,
        cleaned,
        lambda: CampaignDefaults.objects.update_or_create(
            merchant=actor.merchant, defaults=cleaned
        ),
        KEYS,
    )


def register() -> None:
    register_section("campaigns", Campaigns, plan_campaigns, export_campaigns)
