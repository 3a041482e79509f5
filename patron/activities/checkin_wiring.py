"""What the check-in part registers from above at start-up: the `checkin` and `referral`
program sections, members' hooks (self-referral check, devices, profile, review, first sale
and its refund, birthday multiplier)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import pgettext_lazy

from patron.members import hooks
from patron.members.models import Member
from patron.tenancy.actor import Actor


def on_activity(actor: Actor, member: Member, kind: str, detail: Mapping[str, Any]) -> None:
    """In the transaction of the write that reports it (a sale, a refund, a profile update,
    a review): what those writes earn here."""
    from patron.activities import actions, referral

    if kind == "sale" and detail.get("sale") is not None:
        referral.on_sale(actor, member, detail["sale"])
        actions.on_birthday_sale(actor, member, detail["sale"])
    elif kind == "refund" and detail.get("refund") is not None:
        sale = detail.get("sale") or detail["refund"].sale
        referral.on_refund(actor, member, sale)
        actions.on_birthday_refund(actor, sale, detail["refund"])
    elif kind == "profile":
        actions.on_profile(actor, member)
    elif kind == "review" and detail.get("event") is not None:
        actions.on_review(actor, member, detail["event"].pk)


def after_registration(actor: Actor, member: Member, data: Mapping[str, Any]) -> None:
    from patron.activities import actions, referral

    referral.after_registration(actor, member, data)
    actions.on_profile(actor, member)


def registration_errors(actor: Actor, data: Mapping[str, Any], fields: Mapping[str, Any]):
    from patron.activities import referral

    return referral.registration_errors(actor, data, fields)


def register() -> None:
    """Called once from ActivitiesConfig.ready(). Owner: the checkin part."""
    from patron.activities import actions, checkin, checkin_program, referral
    from patron.ledger import references

    checkin_program.register()
    # Points these pay are earns, which would otherwise read as earned on a sale.
    references.add_source_reason(checkin.SOURCE, pgettext_lazy("ledger reason", "Daily check-in"))
    references.add_source_reason(
        actions.SOURCE, pgettext_lazy("ledger reason", "Points for actions")
    )
    references.add_source_reason(referral.SOURCE, pgettext_lazy("ledger reason", "Referral reward"))
    hooks.add_registration_check(registration_errors, keys=("device_id",))
    hooks.add_after_registration(after_registration)
    hooks.add_activity_handler(on_activity)
