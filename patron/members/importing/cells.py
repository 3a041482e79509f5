"""One cell's raw value -> the value the shared member validators expect.

Spreadsheets store mobiles and ID numbers as numbers, dates as Excel dates or Chinese text
(1990年1月2日), join times without a zone: the import accepts what merchants' files hold and
hands the API's shapes to the same validation the API uses.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.text import nfkc
from patron.members.models import CustomField
from patron.members.validation import Invalid

TEXT_ONLY_FIELDS = {"mobile", "id_number", "name", "email", "region", "address", "occupation"}
TEXT_ONLY_FIELDS |= {"gender", "income_band", "tags", "lunar_birthday"}
# [0-9], not \d: \d also matches "١" or "߁", which a date in a merchant's file never holds.
DATE_TEXT = re.compile(
    r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?\s*(.*)$"
)
TIME_TEXT = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")


def cell(cells: tuple[Any, ...], index: int) -> Any:
    """The cell's value with blanks as None and whole-number floats as int (Excel's numbers)."""
    if index >= len(cells):
        return None
    value = cells[index]
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_text(value: Any) -> Any:
    """Numbers typed into a text column (mobiles, ID numbers, sizes) become their digits."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def date_text(text: str) -> str:
    """'1990/1/2', '1990.1.2', '1990年1月2日' -> '1990-01-02'; a midnight time is dropped.

    Full-width digits (an input method's) read as ASCII; other digits ("١", "²") are left for
    the date validation to refuse.
    """
    text = nfkc(text)
    if len(text) in (10, 16, 19) and text[4] == "-" and text[7] == "-" and text[5:7].isascii():
        return text  # already ISO, as most files have it: skip the regex
    match = DATE_TEXT.match(text)
    if not match:
        return text
    year, month, day, rest = match.groups()
    iso = f"{year}-{int(month):02d}-{int(day):02d}"
    if not rest:
        return iso
    clock = TIME_TEXT.match(rest)
    if clock is None:
        return f"{iso} {rest}"
    hour, minute, second = (int(part or 0) for part in clock.groups())
    return f"{iso} {hour:02d}:{minute:02d}:{second:02d}"


def strip_midnight(text: str) -> str:
    return text[:-9] if text.endswith(" 00:00:00") else text


def coerce_member_value(name: str, value: Any) -> Any:
    """Shape a cell for the shared validators, which expect API-like values."""
    if name == "birthday":
        if isinstance(value, int):
            value = str(value)
        return strip_midnight(date_text(value)) if isinstance(value, str) else value
    if name == "lunar_birthday" and isinstance(value, dt.date):
        return f"{value.month:02d}-{value.day:02d}"  # Excel turned "08-15" into a date
    if name in TEXT_ONLY_FIELDS:
        return as_text(value)
    return value


def coerce_custom_value(definition: CustomField, value: Any) -> Any:
    if definition.kind in (CustomField.Kind.TEXT, CustomField.Kind.CHOICE):
        return as_text(value)
    if definition.kind == CustomField.Kind.DATE and isinstance(value, str):
        return strip_midnight(date_text(value))
    return value


def clean_joined_at(value: Any, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> dt.datetime:
    """A join date or time in the merchant's zone; never in the future, never before 1900."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        try:
            moment = dt.datetime.fromisoformat(date_text(str(as_text(value))))
        except ValueError:
            raise Invalid(_("Enter a date as YYYY-MM-DD or a time as YYYY-MM-DD HH:MM.")) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    if moment.year < 1900:
        raise Invalid(_("The date is too far in the past."))
    if moment > now:
        raise Invalid(_("The date cannot be in the future."))
    return moment
