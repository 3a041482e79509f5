"""Joining from the member pages (F-03): the checks before a code is sent, and the registration.

Registration is the members app's (register_member, channel h5): recruitment rules come back
from its registration checks as field errors, the store from the poster's `?store=`, and a
referral code in the link credits the referrer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patron.core.errors import FieldError
from patron.members import hooks
from patron.members.models import Channel, Member, MemberStatus
from patron.members.services import register_member, resolve_referrer, resolve_store
from patron.members.validation import clean_member_fields
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store


def join_store(merchant: Merchant, code: str) -> Store | None:
    """The active store a poster names (`?store=CODE`), or None."""
    if not code or len(code) > 32 or "\x00" in code:
        return None
    return Store.objects.filter(merchant=merchant, code=code, is_active=True).first()


def payload(data: Mapping[str, Any], store: str, referrer_code: str) -> dict[str, Any]:
    """register_member's input: the form's data, the store and the referral code of the link."""
    return {**data, "store": store or None, "referrer_code": referrer_code or None}


def join_errors(actor: Actor, data: Mapping[str, Any]) -> list[FieldError]:
    """What register_member would refuse, found before a code is sent (nothing is written).

    A recruitment rule of purchases raises its DomainError (`recruitment_not_met`)."""
    fields, errors = clean_member_fields(data, partial=False)
    store, store_errors = resolve_store(actor, data.get("store"))
    _referrer, referrer_errors = resolve_referrer(actor.merchant, data.get("referrer_code"))
    errors += store_errors + referrer_errors
    if errors:
        return errors
    return hooks.registration_errors(actor, data, {**fields, "store": store})


def existing_member(merchant: Merchant, mobile: str) -> Member | None:
    """The open membership of `mobile` at `merchant` (joining again logs in instead)."""
    return (
        Member.objects.filter(merchant=merchant, mobile=mobile)
        .exclude(status=MemberStatus.CLOSED)
        .first()
    )


def join(actor: Actor, data: Mapping[str, Any]) -> Member:
    """Register the member (raises ValidationFailed, Conflict or DomainError, writing nothing)."""
    return register_member(actor, data, channel=Channel.H5)
