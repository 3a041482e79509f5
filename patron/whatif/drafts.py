"""A draft between the page's steps: from an editor to the form, from a result to its apply.

A short replay leaves no row, so its draft travels in the page as a signed token
(`django.core.signing`: the merchant, the user and the program's revision are inside, so a
token is refused for anyone else, altered or a day old); a job's draft is its Simulation row.
Either way the draft is checked against the program as it is now: if a revision was applied
since the replay, its figures compared a program that no longer exists and applying the
draft would undo that revision's changes, so the page asks for a new replay instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Max
from django.utils.translation import gettext as _

from patron.cards.tier_forms import TierForm
from patron.core.errors import DomainError
from patron.program.models import ProgramRevision
from patron.program.services import as_json, export_sections
from patron.promotions.editor_forms import CouponTemplateForm, PromotionForm
from patron.tenancy.actor import Actor
from patron.whatif.forms import DRAFTED_SECTIONS
from patron.whatif.models import Simulation

SALT = "patron.whatif.draft"
MAX_AGE = 24 * 60 * 60  # seconds: a result left open overnight is replayed again


class DraftRefused(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="draft_refused", status=400)


@dataclass(frozen=True)
class Draft:
    """A draft to apply: the program file and the revision it was replayed against."""

    document: dict[str, Any]
    revision: int  # the latest ProgramRevision id when replayed (0: none yet)
    simulation: int | None = None


def latest_revision(actor: Actor) -> int:
    found = ProgramRevision.objects.filter(merchant=actor.merchant).aggregate(last=Max("pk"))
    return found["last"] or 0


def sign(actor: Actor, document: dict[str, Any], revision: int) -> str:
    payload = {
        "merchant": actor.merchant.pk,
        "user": actor.user.pk if actor.user else None,
        "revision": revision,
        "document": document,
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def from_token(actor: Actor, token: str) -> Draft:
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise DraftRefused(_("This result is more than a day old: run the replay again.")) from None
    except signing.BadSignature:
        raise DraftRefused(
            _("This draft was not made by this page: run the replay again.")
        ) from None
    user = actor.user.pk if actor.user else None
    if payload.get("merchant") != actor.merchant.pk or payload.get("user") != user:
        raise DraftRefused(_("This draft was not made by this page: run the replay again."))
    return Draft(document=payload["document"], revision=int(payload["revision"]))


def from_simulation(actor: Actor, simulation: Simulation) -> Draft:
    """A job's draft; its revision is the last one applied before it was asked for."""
    found = ProgramRevision.objects.filter(
        merchant=actor.merchant, applied_at__lte=simulation.created_at
    ).aggregate(last=Max("pk"))
    return Draft(
        document=simulation.document, revision=found["last"] or 0, simulation=simulation.pk
    )


def is_stale(actor: Actor, draft: Draft) -> bool:
    """Whether a program revision was applied after the replay (by anyone, any channel)."""
    return ProgramRevision.objects.filter(merchant=actor.merchant, pk__gt=draft.revision).exists()


# --- drafts from the editors ------------------------------------------------------------------


def current_sections(actor: Actor) -> dict[str, Any]:
    return as_json(export_sections(actor, DRAFTED_SECTIONS))


def form_messages(form: Any) -> list[str]:
    """The editor form's refusals, each named by its field's label."""
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            found.append(f"{label}: {error}" if label else str(error))
    return found


def from_tier_editor(actor: Actor, code: str, data: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The drafted sections with tier `code` as the tier editor's form has it."""
    document = current_sections(actor)
    rows = document["tiers"]
    index = next((i for i, row in enumerate(rows) if row["code"] == code), None)
    if index is None:
        return None, [_("No tier with code %(code)s.") % {"code": code}]
    form = TierForm(data, actor=actor, rank=rows[index]["rank"])
    if not form.is_valid():
        return None, form_messages(form)
    rows[index] = as_json({**form.to_row(code), "code": code})  # as the editor saves it
    return document, []


RULE_FORMS = {"promotions": PromotionForm, "coupon_templates": CouponTemplateForm}


def from_rule_editor(
    actor: Actor, section: str, code: str | None, data: Any
) -> tuple[dict[str, Any] | None, list[str]]:
    """The drafted sections with the promotion or coupon template of the editor's form: the
    row `code` replaced (its `limits`, which the form does not edit, kept), or a new row."""
    document = current_sections(actor)
    rows = document[section]
    form = RULE_FORMS[section](data, actor=actor, editing=code, initial={"code": code})
    if not form.is_valid():
        return None, form_messages(form)
    row = as_json(form.to_row())
    if code is None:
        rows.append(row)
        return document, []
    for index, existing in enumerate(rows):
        if existing["code"] == code:
            kept = (
                {"limits": existing["limits"]}
                if "limits" in existing and "limits" not in row
                else {}
            )
            rows[index] = {**row, **copy.deepcopy(kept), "code": code}
            return document, []
    return None, [_("No row with code %(code)s.") % {"code": code}]
