"""Numbers typed by people, and what counts as a digit in them.

`str.isdigit()` is true for "²", "፩" and "١", and `int()` reads "١٢٣" as 123 but fails on "²":
neither says whether someone typed a number, and the pair of them turned exotic digits into
500s. Patron reads ASCII digits only. Where a field takes what Chinese input methods type, the
full-width forms (０-９, also ＋ － ． and the ideographic space) count as their ASCII forms, as
NFKC maps them; every other character that NFKC would turn into an ASCII digit (superscripts,
subscripts, circled or mathematical digits, fractions) is kept as it is by `nfkc`, so that the
check for ASCII digits after it refuses it: nobody typing "²" meant a quantity of 2.
"""

from __future__ import annotations

import functools
import re
import unicodedata

DIGITS = re.compile(r"[0-9]+")  # [0-9] is ASCII only, unlike \d
SIGNED_DIGITS = re.compile(r"-?[0-9]+")
# Longer digit strings are refused before int() reads them: no limit of ours comes close, and
# int() of a huge string costs time (Python refuses more than 4300 digits with a ValueError).
MAX_NUMBER_CHARS = 32
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@functools.lru_cache(maxsize=2048)
def _disguised_digit(char: str) -> bool:
    """A character NFKC turns into ASCII digits that is neither one nor a full-width one."""
    if "0" <= char <= "9" or "\uff10" <= char <= "\uff19":
        return False
    return any("0" <= part <= "9" for part in unicodedata.normalize("NFKC", char))


def nfkc(text: str) -> str:
    """NFKC (full-width forms become ASCII), leaving disguised digits such as "²" as they are."""
    if text.isascii():
        return text
    kept = [index for index, char in enumerate(text) if _disguised_digit(char)]
    if not kept:
        return unicodedata.normalize("NFKC", text)
    parts, start = [], 0
    for index in kept:
        parts += [unicodedata.normalize("NFKC", text[start:index]), text[index]]
        start = index + 1
    parts.append(unicodedata.normalize("NFKC", text[start:]))
    return "".join(parts)


def ascii_digits(raw: object, *, fullwidth: bool = True) -> str | None:
    """`raw` as a string of ASCII digits, or None when it is anything else (or empty).

    With `fullwidth`, ０-９ count as 0-9 (the answer is in ASCII). No sign, no spaces: strip
    first what the field allows around its digits.
    """
    if not isinstance(raw, str):
        return None
    text = nfkc(raw) if fullwidth else raw
    return text if DIGITS.fullmatch(text) else None


def parse_int(raw: object, *, low: int, high: int, fullwidth: bool = True) -> int | None:
    """A whole number in [low, high] written in ASCII digits with an optional leading "-"
    (full-width forms too with `fullwidth`); None for anything else. Surrounding whitespace is
    ignored."""
    if not isinstance(raw, str):
        return None
    text = (nfkc(raw) if fullwidth else raw).strip()
    if len(text) > MAX_NUMBER_CHARS or not SIGNED_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
