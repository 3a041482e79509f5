"""Card number prefixes, one per merchant, so card numbers are unique across merchants (F-42:
an allied merchant's till tells a visiting member's card from its own by the prefix).

A card number is the merchant's prefix, an 8-digit sequence and a Luhn check digit
(members.services.allocate_card_numbers), so its length is len(prefix) + 9. Two merchants with
different prefixes P and Q can never issue the same number N:
- if len(P) != len(Q), their numbers have different lengths;
- if len(P) == len(Q), N would start with both P and Q, which are different strings of the
  same length.
This holds only while the sequence keeps its 8 digits (a 9-digit sequence under "8" would read
like an 8-digit one under "81"), which is why allocation stops at MAX_SEQUENCE. The prefix is
unique in the database; the first merchant gets "8" (the numbers issued so far), the next ones
"81", "82", … "89", "810", … (digits only, up to six of them).
"""

from __future__ import annotations

from collections.abc import Iterable

FIRST_PREFIX = "8"
MAX_SEQUENCE = 10**8 - 1  # 8 digits
MAX_PREFIX_LENGTH = 6


def next_prefix(taken: Iterable[str]) -> str:
    """The first prefix of the series "8", "81", "82", … that is not taken."""
    used = set(taken)
    if FIRST_PREFIX not in used:
        return FIRST_PREFIX
    number = 1
    while f"{FIRST_PREFIX}{number}" in used:
        number += 1
    prefix = f"{FIRST_PREFIX}{number}"
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError("no card number prefix left")
    return prefix
