"""The value types of program files (API.md §2), shared by every section.

Each type is a `Scalar` placed in `Annotated[...]`: it takes a value as the program file gives
it (YAML or JSON), hands it on cleaned (a multiplier as whole percent, a bare date as a
datetime) or refuses it with one translated message, so an error reads the same wherever the
type is used; it also says what it takes in the JSON Schema that editors use.
The checks are plain Python, not pydantic's coercions: `True` is not a number, `"100"` is not
an amount and `1.0` is not a whole number, as in every program file so far.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# The pydantic error type of every refusal worded by us; its message is the reason to show.
PROGRAM_ERROR = "program_rule"

MAX_FEN = 10**12  # ten billion yuan: above any amount a rule may name
MAX_COUNT = 10**9
# Used with fullmatch: with match, "$" would also accept a trailing newline ("S1\n").
CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")
CATEGORY_SHAPE = re.compile(r"[^\s,，\x00]{1,40}")
SKU_SHAPE = re.compile(r"[^\s\x00]{1,64}")
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def refusal(message: str) -> PydanticCustomError:
    """A pydantic error that shows `message` as it is (no `{...}` placeholders filled in)."""
    return PydanticCustomError(PROGRAM_ERROR, "{reason}", {"reason": message})


class Scalar(ABC):
    """One kind of value: `convert` cleans it or raises ValueError, then `message` says why.

    The kinds are frozen dataclasses hashed by identity (eq=False): hashing one must not
    translate its lazy message, possibly before the translations are loaded.
    """

    @abstractmethod
    def convert(self, value: Any) -> Any:
        """The value cleaned; ValueError when it is refused."""

    @abstractmethod
    def message(self, value: Any) -> str:
        """Why `value` is refused, in the active language."""

    @abstractmethod
    def json_schema(self) -> dict[str, Any]:
        """What the kind takes, for editors."""

    def parse(self, value: Any) -> Any | None:
        """The cleaned value, or None when refused (for checks across fields)."""
        try:
            return self.convert(value)
        except ValueError:
            return None

    def validate(self, value: Any) -> Any:
        try:
            return self.convert(value)
        except ValueError:
            raise refusal(self.message(value)) from None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return self.json_schema()


@dataclass(frozen=True, eq=False)
class Whole(Scalar):
    """A whole number from `low` to `high` (fen, points, days, counts, percent)."""

    low: int
    high: int

    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError
        if not self.low <= value <= self.high:
            raise ValueError
        return value

    def message(self, value: Any) -> str:
        return _("A whole number from %(low)d to %(high)d.") % {"low": self.low, "high": self.high}

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, eq=False)
class Shaped(Scalar):
    """Text matching `shape` whole (codes, categories, SKUs)."""

    shape: re.Pattern[str]
    refused: Promise

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or not self.shape.fullmatch(value):
            raise ValueError
        return value

    def message(self, value: Any) -> str:
        return str(self.refused)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{self.shape.pattern}$"}


@dataclass(frozen=True, eq=False)
class Named(Scalar):
    """A display name: 1 to 100 characters once trimmed, handed on trimmed."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
            raise ValueError
        return value.strip()

    def message(self, value: Any) -> str:
        return _("A name of 1 to 100 characters.")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": 100}


@dataclass(frozen=True, eq=False)
class Text(Scalar):
    """Free text of at most `limit` characters (an address, a phone number)."""

    limit: int

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.limit:
            raise ValueError
        return value

    def message(self, value: Any) -> str:
        return _("Text of at most %d characters.") % self.limit

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.limit}


@dataclass(frozen=True, eq=False)
class OneOf(Scalar):
    """One of a few words; `refusals` words the refusal of a value people often try instead."""

    choices: Sequence[str]
    refusals: dict[str, Promise] = field(default_factory=dict)

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError
        return value

    def message(self, value: Any) -> str:
        if isinstance(value, str) and value in self.refusals:
            return str(self.refusals[value])
        return _("One of: %s") % ", ".join(self.choices)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": [str(choice) for choice in self.choices]}


@dataclass(frozen=True, eq=False)
class Flag(Scalar):
    """true or false, nothing that merely looks like one ("yes", 1)."""

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError
        return value

    def message(self, value: Any) -> str:
        return _("Must be true or false.")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, eq=False)
class Multiplier(Scalar):
    """A multiplier such as 2 or 1.5, handed on in whole percent (200, 150) as it is stored."""

    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        try:
            percent = Decimal(str(value)) * 100
        except InvalidOperation:  # inf / nan
            raise ValueError from None
        if percent != percent.to_integral_value() or not 0 < percent <= 10000:
            raise ValueError
        return int(percent)

    def message(self, value: Any) -> str:
        return _("A number greater than 0 and at most 100, with at most two decimals (e.g. 1.5).")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "number", "exclusiveMinimum": 0, "maximum": 100}


@dataclass(frozen=True, eq=False)
class Moment(Scalar):
    """ISO 8601 text (or a YAML date / timestamp) -> datetime, naive when no offset was given.

    A bare date is the start of that day, or with `end` (an exclusive end such as `ends_at`)
    the end of it: `ends_at: 2027-03-31` still includes the 31st.
    """

    end: bool = False

    def convert(self, value: Any) -> dt.datetime:
        if isinstance(value, str) and DATE_ONLY.fullmatch(value.strip()):
            with contextlib.suppress(ValueError):  # a bad date is refused below
                value = dt.date.fromisoformat(value.strip())
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            start = dt.datetime.combine(value, dt.time.min)
            return start + dt.timedelta(days=1) if self.end else start
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value.strip())  # ValueError when it is not one
        raise ValueError

    def message(self, value: Any) -> str:
        return _("An ISO 8601 date or time, e.g. 2027-03-01 or 2027-03-01T09:00:00+08:00.")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "description": "ISO 8601 date or time; without an offset, in the merchant's zone",
            "examples": ["2027-03-01", "2027-03-01T09:00:00+08:00"],
        }


def sorted_unique(values: list[Any]) -> list[Any]:
    return sorted(set(values))


CODE = Shaped(CODE_SHAPE, gettext_lazy("Use 1 to 32 letters, digits, - or _."))
CATEGORY = Shaped(
    CATEGORY_SHAPE, gettext_lazy("A category of 1 to 40 characters without spaces or commas.")
)
SKU = Shaped(SKU_SHAPE, gettext_lazy("A SKU of 1 to 64 characters, no spaces."))
START = Moment()
END = Moment(end=True)

Code = Annotated[str, CODE]
Category = Annotated[str, CATEGORY]
Sku = Annotated[str, SKU]
Name = Annotated[str, Named()]
Bool = Annotated[bool, Flag()]
Percent = Annotated[int, Whole(1, 100)]
Fen = Annotated[int, Whole(0, MAX_FEN)]
PositiveFen = Annotated[int, Whole(1, MAX_FEN)]
Count = Annotated[int, Whole(1, MAX_COUNT)]
MultiplierPercent = Annotated[int, Multiplier()]
Start = Annotated[dt.datetime, START]
End = Annotated[dt.datetime, END]
# Lists a condition or a benefit matches against: the order and repeats say nothing.
CodeSet = Annotated[list[Code], AfterValidator(sorted_unique)]
CategorySet = Annotated[list[Category], AfterValidator(sorted_unique)]
SkuSet = Annotated[list[Sku], AfterValidator(sorted_unique)]
