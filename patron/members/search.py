"""What a typed member search matches, how its answers rank, and in what order they page.

Each kind of match is written so PostgreSQL answers it from an index of migration 0008 (the
why and the figures: docs/scale.md, "Search"): a mobile's or card number's first digits from a
text_pattern_ops btree, a mobile's last digits from the btree on its reverse, a name from the
GIN index on its characters (then the LIKE rechecks the order of the characters), pinyin from
a trigram index. SQLite scans: the same conditions, without the indexes.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Reverse
from django.db.models.lookups import StartsWith

from patron.core.text import ascii_digits
from patron.members.pinyin import pinyin_query

# A typed query splits into words at spaces and where digits meet letters ("zs 1380", "zs1380").
QUERY_TERMS = re.compile(r"[0-9０-９]+|[^\s0-9０-９]+")
# Fewer digits than this are the start of a number, never its end: "7" is not every tenth
# mobile, and "the last four digits" are four.
SUFFIX_MIN_DIGITS = 4
# Pinyin shorter than this has no trigram: it is matched at the start of a word ("zs" finds
# "zhangsan zs", "zsf"), where the trigram index still narrows the search.
PINYIN_TRIGRAM = 3

EXACT, PREFIX, OTHER = 0, 1, 2
RANK = "search_rank"
# Search answers page best match first, then the newest members (the list's own order).
RANKED_ORDERING = (RANK, "-joined_at", "-id")
LIST_ORDERING = ("-joined_at", "-id")


class HasCharacters(Func):
    """`string_to_array(lower(field), NULL) @> ARRAY[...]`: the field holds every one of these
    characters, answered by the GIN index on the name's characters. On SQLite it is true (the
    LIKE beside it does the work)."""

    output_field = BooleanField()

    def __init__(self, field: str, characters: list[str]) -> None:
        super().__init__(F(field))
        self.characters = characters

    def as_sql(self, compiler, connection, **extra_context: Any):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"string_to_array(lower({sql}), NULL) @> %s::text[]", (*params, self.characters)

    def as_sqlite(self, compiler, connection, **extra_context: Any):
        return "1", ()


def characters_of(text: str) -> list[str]:
    return sorted({c for c in text.lower() if not c.isspace()})


def name_contains(text: str) -> Q:
    return Q(HasCharacters("name", characters_of(text))) & Q(name__icontains=text)


def mobile_ends_with(digits: str) -> Q:
    # reverse(mobile) LIKE '4321%' seeks in the btree on reverse(mobile); LIKE '%1234' scans.
    return Q(StartsWith(Reverse("mobile"), digits[::-1]))


def pinyin_matches(letters: str) -> Q:
    if len(letters) >= PINYIN_TRIGRAM:
        return Q(name_pinyin__contains=letters)
    return Q(name_pinyin__regex=rf"(^| ){letters}")


def term_condition(term: str) -> Q:
    """What one word of a search matches: digits the mobile (start, or end from four digits)
    or the card number; letters the name or its pinyin (`wang` finds 王, `zs` 张三); anything
    else the name."""
    digits = ascii_digits(term)
    if digits is not None:
        condition = Q(mobile__startswith=digits) | Q(card_no__startswith=digits)
        if len(digits) >= SUFFIX_MIN_DIGITS:
            condition |= mobile_ends_with(digits)
        return condition
    condition = name_contains(term)
    if (letters := pinyin_query(term)) is not None:
        condition |= pinyin_matches(letters)
    return condition


def query_condition(q: str) -> Q:
    """Every word must match (`zs 8000`: a 张三 whose mobile ends in 8000); the whole query may
    also be a referral code (letters and digits together) or a full name with spaces."""
    if (digits := ascii_digits(q.replace(" ", ""))) is not None:
        return term_condition(digits)  # a mobile typed in groups: "138 0013 8000"
    terms = QUERY_TERMS.findall(q)
    condition = Q()
    for term in terms:
        condition &= term_condition(term)
    if len(terms) > 1:
        condition |= name_contains(q)
        if (letters := pinyin_query(q)) is not None:  # "zhang san"
            condition |= pinyin_matches(letters)
    return condition | Q(referral_code=q.replace(" ", "").upper())


def rank_conditions(q: str, also_exact: int | None = None) -> tuple[Q, Q]:
    """What makes a match exact (an exact mobile, card number, name or referral code, or the
    member with id `also_exact`: a physical card id named them) and what makes it a prefix
    match (the mobile, card number, name or pinyin starts with the query). Each implies
    `query_condition(q)`, so the tiers need not repeat it (docs/scale.md)."""
    if (digits := ascii_digits(q.replace(" ", ""))) is not None:
        exact = Q(mobile=digits) | Q(card_no=digits)
        prefix = Q(mobile__startswith=digits) | Q(card_no__startswith=digits)
    else:
        exact = Q(name=q) | Q(referral_code=q.replace(" ", "").upper())
        # With its characters, so an index can answer it alone (a tier has no other condition).
        prefix = Q(HasCharacters("name", characters_of(q))) & Q(name__startswith=q)
        if (letters := pinyin_query(q)) is not None:
            prefix |= Q(name_pinyin__startswith=letters)
            if len(letters) < PINYIN_TRIGRAM:  # initials match at a word's start: all prefixes
                prefix |= pinyin_matches(letters)
    if also_exact is not None:
        exact |= Q(pk=also_exact)
    return exact, prefix


def rank(q: str, *, also_exact: int | None = None) -> Case:
    """0 for an exact match, 1 for a prefix match, 2 for the rest (`rank_conditions`)."""
    exact, prefix = rank_conditions(q, also_exact)
    return Case(
        When(exact, then=Value(EXACT)),
        When(prefix, then=Value(PREFIX)),
        default=Value(OTHER),
        output_field=IntegerField(),
    )


def tiers(q: str, *, also_exact: int | None = None) -> list[Q]:
    """The matches of each rank apart, for `core.keyset.tiered_page`: a page of common prefix
    matches (王, wang) then reads the newest in the join-date index instead of ranking them all."""
    exact, prefix = rank_conditions(q, also_exact)
    if (digits := ascii_digits(q.replace(" ", ""))) is not None:
        # Digits match a mobile's or card's start (the first tiers) or a mobile's end: naming
        # the end alone lets the planner read it from its index instead of walking every member.
        if len(digits) < SUFFIX_MIN_DIGITS:
            return [exact, prefix & ~exact]
        return [exact, prefix & ~exact, mobile_ends_with(digits) & ~prefix & ~exact]
    everything = query_condition(q)
    if also_exact is not None:
        everything |= Q(pk=also_exact)
    return [exact, prefix & ~exact, everything & ~prefix & ~exact]
