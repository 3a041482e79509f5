"""Writing message templates: texts checked (templating.check), codes unique, audited."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from patron.campaigns.models import MessageTemplate, Purpose
from patron.campaigns.templating import check_template
from patron.core.errors import FieldError, ValidationFailed
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.services import audit, diff

CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
FIELDS = (
    "code",
    "name",
    "purpose",
    "subject_zh",
    "subject_en",
    "body_zh",
    "body_en",
    "provider_code",
    "is_active",
)


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {key: data[key] for key in FIELDS if key in data}
    for key, value in values.items():
        if isinstance(value, str):
            values[key] = value.strip()
    errors = []
    if not CODE.fullmatch(values.get("code", "")):
        errors.append(FieldError("code", _("Letters, digits, _ . - only, at most 40.")))
    if not values.get("name"):
        errors.append(FieldError("name", _("Give the template a name.")))
    if values.get("purpose", Purpose.CARE) not in Purpose.values:
        errors.append(FieldError("purpose", _("Choose a purpose.")))
    if not values.get("body_zh"):
        errors.append(FieldError("body_zh", _("The Chinese text is missing.")))
    errors += check_template(values)
    if errors:
        raise ValidationFailed(errors)
    return values


def _snapshot(template: MessageTemplate) -> dict[str, Any]:
    return {key: getattr(template, key) for key in FIELDS}


def _duplicate(code: str) -> ValidationFailed:
    return ValidationFailed([FieldError("code", _("A template with code %s exists.") % code)])


@transaction.atomic
def create_template(actor: Actor, data: Mapping[str, Any]) -> MessageTemplate:
    values = _clean(data)
    template = MessageTemplate(merchant=actor.merchant, **values)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise _duplicate(values["code"]) from None
    audit(actor, AuditEntry.Action.CREATE, template, label=template.code)
    return template


@transaction.atomic
def update_template(
    actor: Actor, template: MessageTemplate, data: Mapping[str, Any]
) -> MessageTemplate:
    values = _clean({**_snapshot(template), **data})
    before = _snapshot(template)
    for key, value in values.items():
        setattr(template, key, value)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise _duplicate(values["code"]) from None
    changes = diff(before, _snapshot(template))
    if changes:
        audit(actor, AuditEntry.Action.UPDATE, template, changes, label=template.code)
    return template
