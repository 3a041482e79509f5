"""Agreement units (协议单位, F-02): their writes (audited, in a transaction), their reads, and
group enrolment of many people under one unit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from patron.cards.enrolment import local_today
from patron.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from patron.members.importing.errors import UnreadableFile
from patron.members.importing.reading import is_blank, read_bytes, read_rows, split_header
from patron.members.models import AgreementUnit, Member
from patron.members.services import register_member
from patron.members.validation import Invalid, clean_date, mask_mobile, normalize_mobile
from patron.program.models import Category
from patron.promotions.selectors import active_category_codes
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.services import audit, diff

CODE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
ALL_CATEGORIES = "*"
RESERVED_CODES = {"add", "enrol-sale"}  # console paths under /units/
MAX_GROUP = 2000  # people in one enrolment (a paste or a file)
UNIT_FIELDS = (
    "name",
    "discount",
    "contact_name",
    "contact_mobile",
    "note",
    "valid_until",
    "is_active",
)
TEXT_LIMITS = {"name": 100, "contact_name": 50, "note": 200}


# --- reads -----------------------------------------------------------------------------------


def units_for(actor: Actor) -> QuerySet[AgreementUnit]:
    return AgreementUnit.objects.filter(merchant=actor.merchant).annotate(
        member_count=Count("members", filter=Q(members__merchant=actor.merchant))
    )


def unit_for(actor: Actor, code: str) -> AgreementUnit:
    unit = units_for(actor).filter(code=code).first() if isinstance(code, str) else None
    if unit is None:
        raise NotFound(_("Agreement unit not found."))
    return unit


def unit_members(unit: AgreementUnit) -> QuerySet[Member]:
    return Member.objects.filter(merchant_id=unit.merchant_id, agreement_unit=unit).order_by(
        "-joined_at", "-pk"
    )


def is_current(unit: AgreementUnit, today: dt.date) -> bool:
    """Active and not past its end: its members get its prices."""
    return unit.is_active and (unit.valid_until is None or unit.valid_until >= today)


def shown_contact_mobile(actor: Actor, unit: AgreementUnit) -> str:
    if not unit.contact_mobile or actor.sees_personal_data:
        return unit.contact_mobile
    return mask_mobile(unit.contact_mobile)


def present_unit(actor: Actor, unit: AgreementUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "discount": dict(unit.discount or {}),
        "contact_name": unit.contact_name,
        "contact_mobile": shown_contact_mobile(actor, unit),
        "note": unit.note,
        "valid_until": unit.valid_until,
        "is_active": unit.is_active,
        "current": is_current(unit, local_today(actor.merchant)),
        "member_count": getattr(unit, "member_count", None),
    }


def category_names(merchant_id: int) -> dict[str, str]:
    return dict(Category.objects.filter(merchant_id=merchant_id).values_list("code", "name"))


def discount_shown(discount: Mapping[str, int], names: Mapping[str, str]) -> list[tuple[str, int]]:
    """(category name, percent) for screens: names, not codes; "*" last, as every other
    category when some are named."""
    rows = [
        (names.get(code) or code, percent)
        for code, percent in (discount or {}).items()
        if code != ALL_CATEGORIES
    ]
    if ALL_CATEGORIES in (discount or {}):
        label = _("every other category") if rows else _("all categories")
        rows.append((str(label), discount[ALL_CATEGORIES]))
    return rows


# --- cleaning --------------------------------------------------------------------------------


def parse_discount_text(text: str) -> dict[str, Any] | None:
    """'rooms=88, *=95' (also '：' and '，') -> {'rooms': '88', '*': '95'}; None if unreadable."""
    found: dict[str, Any] = {}
    for part in re.split(r"[,，;；\n]+", text or ""):
        if not part.strip():
            continue
        pair = re.split(r"[=:：]", part, maxsplit=1)
        if len(pair) != 2:
            return None
        found[pair[0].strip()] = pair[1].strip()
    return found


def clean_discount(actor: Actor, raw: Any) -> tuple[dict[str, int], list[FieldError]]:
    """{category or "*": percent of price, 1..100} (88 = 8.8折)."""
    if raw in (None, "", {}):
        return {}, []
    if isinstance(raw, str):
        parsed = parse_discount_text(raw)
        if parsed is None:
            message = _("Write category=percent pairs separated by commas, e.g. rooms=88, *=95.")
            return {}, [FieldError("discount", message)]
        raw = parsed
    if not isinstance(raw, Mapping):
        return {}, [FieldError("discount", _("Give percents by category."))]
    known = active_category_codes(actor.merchant)
    cleaned: dict[str, int] = {}
    errors: list[FieldError] = []
    for category, value in raw.items():
        if category != ALL_CATEGORIES and category not in known:
            message = _("Unknown category %(category)s.") % {"category": category}
            errors.append(FieldError(f"discount.{category}", message))
            continue
        text = str(value).strip()
        percent = int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None
        if isinstance(value, bool) or percent is None or not 1 <= percent <= 100:
            message = _("A percent of the price from 1 to 100 (88 = 8.8折).")
            errors.append(FieldError(f"discount.{category}", message))
            continue
        cleaned[str(category)] = percent
    return dict(sorted(cleaned.items())), errors


def _clean_text(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> str:
    value = data.get(name)
    value = "" if value is None else value
    if not isinstance(value, str) or "\x00" in value:
        errors.append(FieldError(name, _("Enter text.")))
        return ""
    value = value.strip()
    if len(value) > TEXT_LIMITS[name]:
        message = _("At most %(count)d characters.") % {"count": TEXT_LIMITS[name]}
        errors.append(FieldError(name, message))
    return value


def clean_unit(
    actor: Actor, data: Mapping[str, Any], code: str, current: AgreementUnit | None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The unit's fields from `data`; on an update, fields left out keep their values. A blank
    name keeps the current one; a new unit without a name is named by its code."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    for name in TEXT_LIMITS:
        if name in data or current is None:
            cleaned[name] = _clean_text(data, name, errors)
    if "name" in cleaned and not cleaned["name"]:
        if current is None:
            cleaned["name"] = code
        else:
            del cleaned["name"]
    if "discount" in data:
        cleaned["discount"], discount_errors = clean_discount(actor, data["discount"])
        errors += discount_errors
    if data.get("contact_mobile") not in (None, ""):
        try:
            cleaned["contact_mobile"] = normalize_mobile(data["contact_mobile"])
        except Invalid as problem:
            errors.append(FieldError("contact_mobile", str(problem)))
    elif "contact_mobile" in data:
        cleaned["contact_mobile"] = ""
    if "valid_until" in data:
        try:
            cleaned["valid_until"] = clean_date(data["valid_until"], allow_future=True)
        except Invalid as problem:
            errors.append(FieldError("valid_until", str(problem)))
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.append(FieldError("is_active", _("true or false.")))
        else:
            cleaned["is_active"] = data["is_active"]
    return cleaned, errors


def clean_code(raw: Any) -> str:
    code = raw.strip() if isinstance(raw, str) else ""
    if not CODE_SHAPE.fullmatch(code) or code.lower() in RESERVED_CODES:
        message = _("Use 1 to 32 letters, digits, - and _ (starting with a letter or digit).")
        raise ValidationFailed([FieldError("code", message)])
    return code


# --- writes ----------------------------------------------------------------------------------


def _snapshot(unit: AgreementUnit) -> dict[str, Any]:
    data = {name: getattr(unit, name) for name in UNIT_FIELDS}
    if data["contact_mobile"]:
        data["contact_mobile"] = "***"  # audit rows say that a personal field changed
    return data


@transaction.atomic
def save_unit(actor: Actor, code: Any, data: Mapping[str, Any]) -> tuple[AgreementUnit, bool]:
    """Create the unit `code` or change the fields given; (unit, created). Saving the same
    values again changes nothing and writes no audit entry."""
    code = clean_code(code)
    current = (
        AgreementUnit.objects.select_for_update().filter(merchant=actor.merchant, code=code).first()
    )
    cleaned, errors = clean_unit(actor, data, code, current)
    if errors:
        raise ValidationFailed(errors)
    created = current is None
    unit = current or AgreementUnit(merchant=actor.merchant, code=code)
    before = {} if created else _snapshot(unit)
    for name, value in cleaned.items():
        setattr(unit, name, value)
    changes = diff(before, _snapshot(unit))
    if created or changes:
        unit.save()
        action = AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE
        audit(actor, action, unit, changes, label=f"{unit.code} {unit.name}")
    return unit, created


# --- group enrolment -------------------------------------------------------------------------


@dataclass
class GroupRow:
    line: int
    mobile: str
    name: str
    outcome: str = ""  # registered, moved, unchanged, error
    message: str = ""
    member_id: int | None = None


@dataclass
class GroupResult:
    rows: list[GroupRow] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def registered(self) -> int:
        return self.count("registered")

    @property
    def moved(self) -> int:
        return self.count("moved")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def error_count(self) -> int:
        return self.count("error")

    @property
    def errors(self) -> list[GroupRow]:
        return [row for row in self.rows if row.outcome == "error"]


def people_from_text(text: str) -> list[GroupRow]:
    """One person a line: mobile, then the name (comma, tab or spaces between)."""
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = re.split(r"[,，\t;；]|\s+", line.strip(), maxsplit=1)
        name = parts[1].strip(" ,，\t;；") if len(parts) == 2 else ""
        rows.append(GroupRow(number, parts[0].strip(), name))
    return rows


MOBILE_HEADERS = {"mobile", "phone", "手机", "手机号", "手机号码", "电话"}
NAME_HEADERS = {"name", "姓名", "名字"}


def people_from_file(upload: Any, file_name: str) -> list[GroupRow]:
    """Rows of an .xlsx or .csv file with a header row naming `mobile` (手机号) and `name`
    (姓名)."""
    rows = read_rows(read_bytes(upload), file_name)
    start, header = split_header(rows)
    lowered = [cell.lower() for cell in header]
    mobile_at = next((i for i, cell in enumerate(lowered) if cell in MOBILE_HEADERS), None)
    name_at = next((i for i, cell in enumerate(lowered) if cell in NAME_HEADERS), None)
    if mobile_at is None:
        raise UnreadableFile(_("The header row needs a column mobile (手机号)."))
    people = []
    for number, cells in enumerate(rows, start=start + 1):
        if is_blank(cells):
            continue

        def cell(at: int | None, cells: tuple = cells) -> str:
            value = cells[at] if at is not None and at < len(cells) else None
            return "" if value is None else str(value).strip()

        people.append(GroupRow(number, cell(mobile_at), cell(name_at)))
    return people


def people_from_api(members: Iterable[Mapping[str, Any]]) -> list[GroupRow]:
    return [
        GroupRow(index, str(person.get("mobile") or ""), str(person.get("name") or ""))
        for index, person in enumerate(members, start=1)
    ]


def enrol_group(actor: Actor, unit: AgreementUnit, people: list[GroupRow]) -> GroupResult:
    """Register the new people under `unit` and move existing members under it, row by row:
    a bad row is reported and the others go ahead. Running it again registers nobody twice."""
    if len(people) > MAX_GROUP:
        raise DomainError(
            _("At most %(count)d people at once.") % {"count": MAX_GROUP}, "too_many_rows", 422
        )
    if not is_current(unit, local_today(actor.merchant)):
        raise DomainError(
            _("This agreement unit is no longer active."), "agreement_unit_inactive", 422
        )
    result = GroupResult()
    seen: set[str] = set()
    for row in people:
        result.rows.append(row)
        try:
            row.mobile = normalize_mobile(row.mobile)
        except Invalid as problem:
            row.outcome, row.message = "error", str(problem)
            continue
        if row.mobile in seen:
            row.outcome, row.message = "error", _("This mobile is already in the list above.")
            continue
        seen.add(row.mobile)
        _enrol_one(actor, unit, row)
    return result


def _enrol_one(actor: Actor, unit: AgreementUnit, row: GroupRow) -> None:
    try:
        with transaction.atomic():
            member = (
                Member.objects.select_for_update()
                .filter(merchant=actor.merchant, mobile=row.mobile)
                .first()
            )
            if member is None:
                member = register_member(
                    actor, {"mobile": row.mobile, "name": row.name, "agreement_unit": unit.code}
                )
                row.outcome = "registered"
            elif member.agreement_unit_id == unit.pk:
                row.outcome = "unchanged"
            else:
                move_member(actor, member, unit)
                row.outcome = "moved"
            row.member_id = member.pk
    except DomainError as problem:
        row.outcome = "error"
        row.message = "; ".join(str(e.message) for e in problem.errors) or str(problem.detail)


def move_member(actor: Actor, member: Member, unit: AgreementUnit | None) -> None:
    before = member.agreement_unit.code if member.agreement_unit_id else None
    Member.objects.filter(pk=member.pk).update(agreement_unit=unit)
    member.agreement_unit = unit
    audit(
        actor,
        AuditEntry.Action.UPDATE,
        member,
        {"agreement_unit": [before, unit.code if unit else None]},
        label=member.card_no,
    )
