"""Export of members to .xlsx or .csv, all of them or a segment's (F-29; F-45 masks it).

The columns are the import template's, so an unmasked export re-imports as it is (the
information-only columns such as the card number are ignored on import). Mobile and ID number
are masked unless the export asks for full data and the actor may see it; every export is
audited with its size and whether it was masked, before a single row leaves the system.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from patron.core.errors import NotFound, PermissionDenied
from patron.members.importing.columns import COLUMNS, EXPORT_ONLY_COLUMNS, custom_header
from patron.members.models import CustomField, Gender, Member
from patron.members.selectors import members_for
from patron.members.services import custom_field_definitions
from patron.members.validation import mask_id_number, mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import audit

FORMATS = ("xlsx", "csv")
# Cashiers serve members one at a time at the till; lists of members are for the office.
EXPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
GENDER_ZH = {Gender.MALE: "男", Gender.FEMALE: "女", Gender.UNKNOWN: "未知"}
CHUNK = 2000


# Segments belong to insight, above members: it registers how a segment's name becomes the
# actor's members of it (`set_segment_resolver`, from insight's wiring). The resolver raises
# NotFound for an unknown name.
SegmentResolver = Callable[[Actor, str], "tuple[QuerySet[Member], str]"]
_segment_resolver: list[SegmentResolver] = []


def set_segment_resolver(fn: SegmentResolver) -> None:
    _segment_resolver[:] = [fn]


def segment_members(actor: Actor, name: str) -> tuple[QuerySet[Member], str]:
    """The members of the segment named `name` for this actor, and the segment's name."""
    if not _segment_resolver:
        raise NotFound(_("Segments are not available."))
    return _segment_resolver[0](actor, name)


@dataclass(frozen=True)
class ExportResult:
    count: int
    unmasked: bool
    format: str
    segment: str = ""


def may_export(actor: Actor) -> bool:
    return actor.staff is None or actor.role in EXPORT_ROLES


def export_headers(definitions: list[CustomField]) -> list[str]:
    card_no, *info = EXPORT_ONLY_COLUMNS
    return [
        card_no[1],
        *(c.zh for c in COLUMNS),
        *(custom_header(d, definitions) for d in definitions),
        *(zh for _name, zh in info),
    ]


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def member_row(
    member: Member, definitions: list[CustomField], unmasked: bool, zone: zoneinfo.ZoneInfo
) -> list[Any]:
    """One member in the export's column order, with values the importer reads back."""
    mobile = member.mobile if unmasked else mask_mobile(member.mobile)
    id_number = member.id_number if unmasked else mask_id_number(member.id_number)
    return [
        member.card_no,
        mobile,
        member.name,
        GENDER_ZH.get(member.gender, "未知"),
        member.birthday.isoformat() if member.birthday else "",
        member.lunar_birthday,
        id_number,
        member.email,
        member.region,
        member.address,
        member.occupation,
        member.income_band,
        ",".join(sorted(t.name for t in member.tags.all())),
        yes_no(member.consent_sms),
        yes_no(member.consent_wechat),
        yes_no(member.consent_email),
        member.store.code if member.store_id else "",
        member.joined_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        *(custom_text(member.custom.get(d.key)) for d in definitions),
        member.referral_code,
        member.source_channel,
        member.status,
    ]


def custom_text(value: Any) -> Any:
    return "" if value is None else value


def members_to_export(actor: Actor, members: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """The actor's members (a store-bound manager: their store's), or those of `members` (a
    segment's, already scoped to the actor), oldest first."""
    chosen = members_for(actor) if members is None else members
    return chosen.select_related("store").prefetch_related("tags").order_by("id")


def export_members(
    actor: Actor,
    target: Any,
    *,
    fmt: str,
    unmasked: bool = False,
    members: QuerySet[Member] | None = None,
    segment: str = "",
) -> ExportResult:
    """Write the actor's members (or `members`, the segment named `segment`) to `target`.

    For csv `target` is a text stream (open files with encoding utf-8-sig and newline=""
    so Excel shows Chinese); for xlsx a path or a binary stream.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not may_export(actor):
        raise PermissionDenied(_("You may not export members."))
    if unmasked and not actor.sees_personal_data:
        raise PermissionDenied(_("Your role may not see full mobiles and ID numbers."))
    members = members_to_export(actor, members)
    count = members.count()
    changes = {"count": [None, count], "unmasked": [None, unmasked], "format": [None, fmt]}
    if segment:
        changes["segment"] = [None, segment]
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        actor.merchant,
        changes,
        label=_("Member export: %s") % segment if segment else _("Member export"),
    )
    definitions = custom_field_definitions(actor.merchant)
    headers = export_headers(definitions)
    zone = zoneinfo.ZoneInfo(actor.merchant.timezone)
    rows = (member_row(m, definitions, unmasked, zone) for m in members.iterator(chunk_size=CHUNK))
    if fmt == "csv":
        write_csv(headers, rows, target)
    else:
        write_xlsx(headers, rows, target)
    return ExportResult(count=count, unmasked=unmasked, format=fmt, segment=segment)


def write_csv(headers: list[str], rows: Iterator[list[Any]], stream: Any) -> None:
    writer = csv.writer(stream)
    writer.writerow(headers)
    writer.writerows(rows)


def write_xlsx(headers: list[str], rows: Iterator[list[Any]], target: Any) -> None:
    # Write-only mode streams rows to disk: memory stays flat for any number of members.
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("会员 Members")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(target)
