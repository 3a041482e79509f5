"""Field types of API request schemas: the server's own limits, stated in the OpenAPI document.

A limit lives in one place (a service constant, a column's size) and the schema takes it from
there, so the document and the server cannot drift apart: generated clients learn what the
server refuses (issue 13, defect 9). Patterns are written for the three regex engines that read
them: pydantic's (Rust), JSON Schema validators' (ECMA-262) and hypothesis' (Python).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictInt,
    WithJsonSchema,
)

from patron.core.text import INT64_MAX

# What str.strip() removes (str.isspace()), spelled for every engine: services strip text
# before checking that something is left.
STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Some text: at least one character that is neither whitespace nor NUL.
NOT_BLANK = rf"^[^\x00]*[^\x00{STRIPPED}][^\x00]*$"
# No NUL: the API's parser refuses it in every string (patron.api.StrictJSONParser); the
# document adds this pattern to every request string that has no stricter one.
NO_NUL = r"^[^\x00]*$"


def documented(**keywords: Any) -> dict[str, Any]:
    """JSON Schema keywords for the document only (a field's `json_schema_extra`): rules the
    services check with their own clear message ("The PIN is 6 digits."), where pydantic's
    would quote a regex at the client."""
    return keywords


def _json_integer(value: Any) -> Any:
    # JSON Schema's integer is a number without a fraction, 2 or 2.0 alike; a string or a
    # boolean is none (StrictInt refuses those, and 2.0 too without this).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A JSON integer: 2 or 2.0, never "2" or true.
JsonInt = Annotated[StrictInt, BeforeValidator(_json_integer)]


def counted(low: int, high: int, description: str | None = None) -> Any:
    """A JSON integer whose bounds [low, high] the document states and a service checks, with
    its own message and field path (e.g. "lines[0].quantity": the quantity must be above 0)."""
    shown: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
    if description:
        shown["description"] = description
    return Annotated[JsonInt, WithJsonSchema(shown)]


# A row's id: positive, 64 bits. One the merchant has not is not found (404), 0 or 2**64 alike.
Id = counted(1, INT64_MAX)


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Moments the API takes: a sale's time, a balance's date. Inside these years every offset and
# conversion works (the day after 9999-12-31 does not exist, an offset before 1901 in Shanghai
# has seconds, which RFC 3339 cannot write).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# RFC 3339 within those years, as the document states it (with `format: date-time`).
MOMENT_PATTERN = (
    r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def _moment_text(value: Any) -> Any:
    # pydantic would read a number, or text such as "0.5", as a Unix time; the document says
    # RFC 3339 text.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and ISO_DAY.match(value)):
        return value
    raise ValueError("give the time as text with its UTC offset, e.g. 2027-03-02T12:00:00+08:00")


def _within_years(value: dt.datetime) -> dt.datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"give a time between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


_MOMENT = (
    BeforeValidator(_moment_text),
    AfterValidator(_within_years),
    Field(json_schema_extra=documented(pattern=MOMENT_PATTERN)),
)
# A moment with its UTC offset, as RFC 3339 text (JSON Schema `format: date-time`).
Moment = Annotated[AwareDatetime, *_MOMENT]
# The same where a time without an offset is read in the merchant's zone.
LocalMoment = Annotated[dt.datetime, *_MOMENT]


# A row's id in a URL path. The document bounds it like the column; the server answers 404
# for any id it has not, 0 or 2**64 alike (a URL that names nothing is not found).
PathId = Path[
    Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": INT64_MAX})]
]


# Who did it (API.md §12 `staff` of a card, top-up or member): a staff user name of the
# merchant, an active one who may work at the store; absent, the API key's or signed-in user.
StaffName = Annotated[
    str | None,
    Field(
        None,
        min_length=1,
        max_length=150,
        description="Who did it, for commissions: a staff user name of the merchant (active, "
        "working at this store); absent: the signed-in user or the API key's",
    ),
]
