"""The member's payment PIN as the counter and the API handle it (F-07): set, change with the
old PIN, reset by staff after checking the member's identity.

The PIN itself lives in patron.sales (`MemberPin`, `set_pin`, `verify_pin`: hashing, the
attempt counter and the lockout); this module adds what the card's history and the audit log
keep of each step (`CardEvent` pin_set / pin_changed / pin_reset, never the PIN).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from patron.cards.models import Card, CardEvent, CardStatus
from patron.core.errors import DomainError, FieldError, PermissionDenied, ValidationFailed
from patron.members.models import Member
from patron.sales import services as sales
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import audit

# Who may reset a member's PIN at the counter: anyone who serves members there (docs/cards-pin.md).
RESET_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


def _member_card(member: Member) -> Card | None:
    return (
        Card.objects.filter(member=member, status__in=(CardStatus.ACTIVE, CardStatus.LOST))
        .order_by("-issued_at", "-pk")
        .first()
    )


def _record(actor: Actor, member: Member, kind: str, detail: dict | None = None) -> None:
    CardEvent.objects.create(
        merchant=actor.merchant,
        member=member,
        card=_member_card(member),
        kind=kind,
        detail=detail or {},
        store=actor.store,
        user=actor.user,
        channel=actor.channel or "api",
    )
    audit(
        actor,
        "update",
        member,
        {"pin": [None, str(CardEvent.Kind(kind).label)]},
        label=str(member),
    )


def set_member_pin(actor: Actor, member: Member, pin: str) -> None:
    """Set (or replace) the PIN; a refused PIN changes nothing."""
    with transaction.atomic():
        sales.set_pin(actor, member, pin)
        _record(actor, member, CardEvent.Kind.PIN_SET)


def change_member_pin(actor: Actor, member: Member, old_pin: str, pin: str) -> None:
    """Change the PIN with the old one. A wrong old PIN counts as a wrong attempt (and may
    lock the PIN), exactly as at the till."""
    sales.checked_new_pin(pin)  # a new PIN that could never be set costs no attempt
    if not old_pin:
        raise ValidationFailed([FieldError("old_pin", _("Enter the current PIN."))])
    # Its own transaction, outside ours: a wrong attempt is remembered though this one fails.
    sales.verify_pin(actor, member, old_pin)
    with transaction.atomic():
        sales.set_pin(actor, member, pin)
        _record(actor, member, CardEvent.Kind.PIN_CHANGED)


def reset_member_pin(actor: Actor, member: Member, pin: str, *, identity_checked: bool) -> None:
    """Staff set a new PIN for a member who forgot theirs, after checking who they are (an ID
    card): clears the count of wrong attempts and any lockout."""
    if actor.staff is not None and actor.role not in RESET_ROLES:
        raise PermissionDenied(_("Your role may not reset a member's PIN."))
    if not identity_checked:
        raise DomainError(
            _("Check the member's identity (ID card) before resetting the PIN."),
            "identity_not_checked",
            422,
            [FieldError("identity_checked", _("Confirm that you checked the member's identity."))],
        )
    with transaction.atomic():
        sales.set_pin(actor, member, pin)
        _record(actor, member, CardEvent.Kind.PIN_RESET, {"identity_checked": True})
