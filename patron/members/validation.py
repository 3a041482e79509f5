"""Validation of member input, shared by the API, the console forms and bulk import.

Returns cleaned values or a list of FieldError; never writes. Field libraries do the hard
parts: phonenumbers for mainland mobiles, python-stdnum (cn.ric) for resident ID numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import ValidationError as StdnumError

from patron.core.errors import FieldError
from patron.core.text import ascii_digits, nfkc
from patron.members.models import Channel, CustomField, Gender, IncomeBand

MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}")  # ASCII digits only: used with fullmatch
LUNAR_SHAPE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|30)$")  # [0-9]: \d takes "١"
# The mainland mobile numbers phonenumbers calls assigned, as its own metadata spells them
# (what normalize_mobile accepts, in its canonical form): the API document states it.
CN_MOBILES = phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
MOBILE_PATTERN = r"^(?:\+86|0086)?(?:" + CN_MOBILES.replace(r"\d", "[0-9]") + ")$"
TEXT_LIMITS = {"name": 50, "region": 60, "address": 200, "occupation": 60, "email": 254}
GENDER_WORDS = {
    "m": Gender.MALE,
    "male": Gender.MALE,
    "男": Gender.MALE,
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "女": Gender.FEMALE,
    "u": Gender.UNKNOWN,
    "unknown": Gender.UNKNOWN,
    "未知": Gender.UNKNOWN,
    "": Gender.UNKNOWN,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "同意", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "不同意", "off", ""}
MAX_TAGS = 20
TAG_LENGTH = 30


class Invalid(ValueError):
    """A single field's value is not acceptable; the message is shown to the user."""


def normalize_mobile(raw: Any) -> str:
    """Return the 11-digit mainland mobile, accepting +86, spaces and dashes."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise Invalid(_("Enter a mainland China mobile number."))
    # NFKC turns the full-width digits of Chinese input methods into ASCII ones, so that
    # "１３８…" and "138…" are one mobile (and one member); "¹³⁸…" stays as it is, refused.
    text = re.sub(r"[\s\-()]", "", nfkc(str(raw)))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if not MOBILE_SHAPE.fullmatch(text):
        raise Invalid(_("Enter a valid mainland China mobile number (11 digits, starting with 1)."))
    number = phonenumbers.parse(text, "CN")
    kind = phonenumbers.number_type(number)
    if not phonenumbers.is_valid_number(number) or kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise Invalid(_("%s is not an assigned mainland China mobile number.") % text)
    return text


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


def mask_id_number(number: str) -> str:
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}" if len(number) > 7 else ""


def validate_ric(text: str) -> str:
    """`stdnum.cn.ric.validate`, with its birthplace look-up remembered per region and year.

    The look-up reads stdnum's region database on every call (most of the cost of checking an
    ID); its answer depends only on the 6-digit region code and the birth year.
    """
    number = ric.compact(text)
    if len(number) != 18:
        raise InvalidLength()
    if ascii_digits(number[:-1], fullwidth=False) is None:  # int() would read "١" or fail on "²"
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    born = ric.get_birth_date(number)
    if not known_birth_place(number[:6], born.year):
        raise InvalidComponent()
    return number


@functools.lru_cache(maxsize=65536)
def known_birth_place(region: str, year: int) -> bool:
    try:
        ric.get_birth_place(f"{region}{year:04d}01010000")
    except StdnumError:
        return False
    return True


def clean_id_number(raw: Any) -> str:
    if raw in (None, ""):
        return ""
    if not isinstance(raw, str):
        raise Invalid(_("Enter a resident ID number."))
    try:
        number = validate_ric(nfkc(raw).strip().upper())
    except StdnumError:
        raise Invalid(_("Not a valid resident ID number (check digit, date or length).")) from None
    if ric.get_birth_date(number) > dt.date.today():
        raise Invalid(_("Not a valid resident ID number: its birth date is in the future."))
    return number


def clean_date(raw: Any, *, allow_future: bool = False) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.date.fromisoformat(raw.strip().replace("/", "-"))
        except ValueError:
            raise Invalid(_("Enter a date as YYYY-MM-DD.")) from None
    else:
        raise Invalid(_("Enter a date as YYYY-MM-DD."))
    if value.year < 1900:
        raise Invalid(_("The date is too far in the past."))
    if not allow_future and value > dt.date.today():
        raise Invalid(_("The date cannot be in the future."))
    return value


def clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    if raw is None:
        return False
    raise Invalid(_("Enter yes or no."))


def clean_text(raw: Any, limit: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise Invalid(_("Enter text."))
    text = str(raw).strip()
    if len(text) > limit:
        raise Invalid(_("At most %d characters.") % limit)
    if "\x00" in text:
        raise Invalid(_("Remove the NUL character (\\u0000)."))
    return text


def clean_gender(raw: Any) -> str:
    if raw is None:
        return Gender.UNKNOWN
    if not isinstance(raw, str) or raw.strip().lower() not in GENDER_WORDS:
        raise Invalid(_("Gender must be M, F or U."))
    return GENDER_WORDS[raw.strip().lower()]


def clean_choice(raw: Any, choices: list[str], message: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or raw not in choices:
        raise Invalid(message)
    return raw


def clean_tags(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = re.split(r"[,，;；、]", raw)
    if not isinstance(raw, list | tuple) or not all(isinstance(t, str) for t in raw):
        raise Invalid(_("Tags must be a list of words."))
    tags = sorted({t.strip() for t in raw if t.strip()})
    if len(tags) > MAX_TAGS or any(len(t) > TAG_LENGTH for t in tags):
        raise Invalid(_("At most %d tags of at most 30 characters each.") % MAX_TAGS)
    if any("\x00" in t for t in tags):
        raise Invalid(_("Remove the NUL character (\\u0000)."))
    return tags


def clean_custom_value(definition: CustomField, raw: Any) -> Any:
    if raw in (None, ""):
        if definition.required:
            raise Invalid(_("This field is required."))
        return None
    kind = definition.kind
    if kind == CustomField.Kind.TEXT:
        return clean_text(raw, 200)
    if kind == CustomField.Kind.NUMBER:
        if isinstance(raw, bool):
            raise Invalid(_("Enter a number."))
        if isinstance(raw, str):
            raw = nfkc(raw)  # full-width digits count; float() would also read "١٢" as 12
            if not raw.isascii():
                raise Invalid(_("Enter a number."))
        try:
            number = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise Invalid(_("Enter a number.")) from None
        if number != number or abs(number) > 1e12:
            raise Invalid(_("Enter a number."))
        return int(number) if number.is_integer() else number
    if kind == CustomField.Kind.CHOICE:
        return clean_choice(
            raw, list(definition.choices), _("Choose one of: %s") % ", ".join(definition.choices)
        )
    value = clean_date(raw, allow_future=True)
    return value.isoformat() if value else None


def clean_custom(
    definitions: list[CustomField], raw: Any, *, partial: bool, current: Mapping | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return {}, [FieldError("custom", _("Custom fields must be an object."))]
    by_key = {d.key: d for d in definitions}
    errors = [
        FieldError(f"custom.{key}", _("Unknown custom field.")) for key in raw if key not in by_key
    ]
    values = dict(current or {})
    for key, definition in by_key.items():
        if partial and key not in raw:
            continue
        try:
            value = clean_custom_value(definition, raw.get(key))
        except Invalid as problem:
            errors.append(FieldError(f"custom.{key}", str(problem)))
            continue
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values, errors


SIMPLE_CLEANERS = {
    "mobile": normalize_mobile,
    "name": lambda v: clean_text(v, TEXT_LIMITS["name"]),
    "gender": clean_gender,
    "birthday": clean_date,
    "id_number": clean_id_number,
    "region": lambda v: clean_text(v, TEXT_LIMITS["region"]),
    "address": lambda v: clean_text(v, TEXT_LIMITS["address"]),
    "occupation": lambda v: clean_text(v, TEXT_LIMITS["occupation"]),
    "tags": clean_tags,
    "consent_sms": clean_bool,
    "consent_wechat": clean_bool,
    "consent_email": clean_bool,
}


def clean_email(raw: Any) -> str:
    text = clean_text(raw, TEXT_LIMITS["email"])
    if text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise Invalid(_("Enter a valid email address.")) from None
    return text


def clean_lunar(raw: Any) -> str:
    text = clean_text(raw, 5)
    if text and not LUNAR_SHAPE.match(text):
        raise Invalid(_("Enter the lunar birthday as MM-DD (month 01-12, day 01-30)."))
    return text


SIMPLE_CLEANERS.update(
    {
        "email": clean_email,
        "lunar_birthday": clean_lunar,
        "income_band": lambda v: clean_choice(
            v, list(IncomeBand.values), _("Choose one of: %s") % ", ".join(IncomeBand.values[1:])
        ),
        # Blank means "not given": clean_member_fields drops it and the service picks one.
        "source_channel": lambda v: clean_choice(
            v, ["", *Channel.values], _("Choose one of: %s") % ", ".join(Channel.values)
        ),
    }
)

MEMBER_FIELDS = tuple(SIMPLE_CLEANERS)


def clean_member_fields(
    raw: Mapping[str, Any], *, partial: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean the plain profile fields present in `raw` (all of them unless partial)."""
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, cleaner in SIMPLE_CLEANERS.items():
        if name not in raw:
            if partial or name != "mobile":
                continue
            errors.append(FieldError("mobile", _("This field is required.")))
            continue
        try:
            cleaned[name] = cleaner(raw[name])
        except Invalid as problem:
            errors.append(FieldError(name, str(problem)))
    if "source_channel" in cleaned and not cleaned["source_channel"]:
        del cleaned["source_channel"]
    return cleaned, errors
