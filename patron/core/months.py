"""Calendar months as the API and the console write them: "YYYY-MM" (2000-01 to 2100-12), and
their bounds in a merchant's zone (a month is the merchant's local month). Shared by the
network's settlement, commissions and alliance statements."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, ValidationFailed

MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# The same months for the OpenAPI document.
MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"


def parse_month(text: object, field: str = "month") -> str:
    """A month "YYYY-MM" (2000..2100), or 422 validation_error naming the field."""
    found = MONTH.match(text) if isinstance(text, str) else None
    if not found or not 2000 <= int(found[1]) <= 2100 or not 1 <= int(found[2]) <= 12:
        message = _("Give the month as YYYY-MM, for example 2027-03.")
        raise ValidationFailed([FieldError(field, message)], message)
    return text  # type: ignore[return-value]


def first_day(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 1)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def month_bounds(month: str, zone: str | dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The month's first instant and the next month's, in `zone`."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    start = dt.datetime.combine(first_day(month), dt.time(), tzinfo=tz)
    end = dt.datetime.combine(first_day(next_month(month)), dt.time(), tzinfo=tz)
    return start, end


def month_of(moment: dt.datetime, zone: str | dt.tzinfo) -> str:
    """The month a moment falls in, in `zone`."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return moment.astimezone(tz).strftime("%Y-%m")


def this_month(zone: str | dt.tzinfo, now: dt.datetime | None = None) -> str:
    return month_of(now or timezone.now(), zone)
