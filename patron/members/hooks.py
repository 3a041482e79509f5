"""What the apps above members do when a member joins, is looked up or does something.

Members stands below the apps that know cards, tiers and recruitment rules; they register
here from their AppConfig.ready() (DESIGN.md §2: a lower app tells a higher one through a
callback registered from above) and members calls them, explicitly, inside its own services:

- a *registration check* sees the raw input of a registration before anything is written and
  returns the field errors it finds (recruitment rules, an unknown card product);
- an *after-registration* step runs in the registration's transaction once the member exists
  (issue the card of the product asked for, attach the qualifying sales);
- an *identifier* turns what a cashier typed or scanned (a physical card id, a replaced card's
  number) into the member, or raises a DomainError (a card reported lost: 409 `card_lost`);
- an *activity* handler runs after a sale, a refund, a top-up or a membership purchase of a
  member, in that transaction (tiers move right after the qualifying purchase, F-10).

Sales and the wallet stand above members too: they call `member_activity` after their writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from patron.core.errors import FieldError
    from patron.members.models import Member
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant

RegistrationCheck = Callable[["Actor", Mapping[str, Any], Mapping[str, Any]], "list[FieldError]"]
AfterRegistration = Callable[["Actor", "Member", Mapping[str, Any]], None]
Identifier = Callable[["Merchant", str], "Member | None"]
Activity = Callable[["Actor", "Member", str, Mapping[str, Any]], None]
# The console's registration form asks for these too (e.g. the sales that qualify someone to
# join): {input name: django form field}, by actor; their values reach the registration check.
RegistrationFields = Callable[["Actor"], "dict[str, Any]"]

# Keys of a registration's input that belong to the apps above (members passes them on).
EXTRA_REGISTRATION_KEYS: set[str] = set()

_checks: list[RegistrationCheck] = []
_after: list[AfterRegistration] = []
_identifiers: list[Identifier] = []
_activity: list[Activity] = []
_form_fields: list[RegistrationFields] = []


def _add(registry: list, fn: Callable) -> None:
    if fn not in registry:  # ready() may run twice in tests; register once
        registry.append(fn)


def add_registration_check(fn: RegistrationCheck, *, keys: tuple[str, ...] = ()) -> None:
    """`fn(actor, data, fields)`: `data` the raw input, `fields` the cleaned member fields."""
    EXTRA_REGISTRATION_KEYS.update(keys)
    _add(_checks, fn)


def add_after_registration(fn: AfterRegistration) -> None:
    _add(_after, fn)


def add_registration_fields(fn: RegistrationFields) -> None:
    _add(_form_fields, fn)


def registration_form_fields(actor: Actor) -> dict[str, Any]:
    return {name: f for fn in _form_fields for name, f in fn(actor).items()}


def add_identifier(fn: Identifier) -> None:
    _add(_identifiers, fn)


def add_activity_handler(fn: Activity) -> None:
    _add(_activity, fn)


def registration_errors(
    actor: Actor, data: Mapping[str, Any], fields: Mapping[str, Any]
) -> list[FieldError]:
    return [error for check in _checks for error in check(actor, data, fields)]


def after_registration(actor: Actor, member: Member, data: Mapping[str, Any]) -> None:
    for step in _after:
        step(actor, member, data)


def identify(merchant: Merchant, text: str) -> Member | None:
    """The member a scanned or typed identifier names, by the registered identifiers."""
    for identifier in _identifiers:
        member = identifier(merchant, text)
        if member is not None:
            return member
    return None


def member_activity(
    actor: Actor, member: Member, kind: str, detail: Mapping[str, Any] | None = None
) -> None:
    """`kind`: sale, refund, topup, membership, profile (an update), review … (`detail`:
    what the handler may need)."""
    for handler in _activity:
        handler(actor, member, kind, detail or {})
