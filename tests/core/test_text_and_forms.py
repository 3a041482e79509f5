"""`patron.core.text` (digits people type) and the console form pieces built on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from patron.core.forms import ConsoleForm, DayField, WholeNumberField, parse_yuan
from patron.core.text import ascii_digits, nfkc, parse_int

# Characters Python's str.isdigit() passes that are no keyboard's digits.
EXOTIC = ["²", "₃", "①", "፩", "١", "۴", "߁", "९", "𝟗", "⒈", "½"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0123", "0123"),
        ("０１２３", "0123"),  # full-width, as Chinese input methods type them
        ("１2３", "123"),
        ("", None),
        (" 12", None),
        ("-1", None),
        ("1.0", None),
        ("12a", None),
        (12, None),
        (None, None),
        *[(char, None) for char in EXOTIC],
        *[(f"1{char}", None) for char in EXOTIC],
    ],
)
def test_ascii_digits(raw, expected):
    assert ascii_digits(raw) == expected


def test_full_width_digits_can_be_refused_where_only_a_program_writes():
    assert ascii_digits("０１", fullwidth=False) is None
    assert ascii_digits("01", fullwidth=False) == "01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 42 ", 42),
        ("－５", -5),  # a full-width minus and digit
        ("-5", -5),
        ("0", 0),
        ("101", None),  # above high
        ("-101", None),
        ("+5", None),
        ("5e2", None),
        ("9" * 40, None),  # refused before int() reads it
        ("²", None),
        ("١٢", None),  # int() reads this as 12
        ("፩", None),  # int() raises on this one
    ],
)
def test_parse_int(raw, expected):
    assert parse_int(raw, low=-100, high=100) == expected


def test_nfkc_reads_full_width_forms_and_keeps_disguised_digits():
    assert nfkc("ＡＢＣ－１２３　ｘ") == "ABC-123 x"
    assert nfkc("²１") == "²1"  # NFKC alone would say "21"
    assert nfkc("① ½") == "① ½"
    assert nfkc("e\u0301²") == "é²"  # composed around the kept character


@given(st.text())
def test_whatever_is_typed_parse_int_answers_an_int_in_range_or_none(text):
    value = parse_int(text, low=0, high=10**6)
    assert value is None or (isinstance(value, int) and 0 <= value <= 10**6)


@given(st.text())
def test_ascii_digits_answers_ascii_digits_or_none(text):
    digits = ascii_digits(text)
    assert digits is None or (digits != "" and set(digits) <= set("0123456789"))


@pytest.mark.parametrize("raw", ["²00", "١٠٠", "1⁰0", "¹"])
def test_yuan_amounts_in_exotic_digits_are_refused(raw):
    with pytest.raises(forms.ValidationError):
        parse_yuan(raw)


def test_yuan_amounts_in_full_width_digits_count():
    assert parse_yuan("１２３．５") == 12350


class Filters(ConsoleForm):
    day = DayField(required=False)
    count = WholeNumberField(required=False, min_value=0)
    kind = forms.ChoiceField(required=False, choices=[("", "All"), ("a", "A")])
    free = forms.Field(required=False)  # a field without validators of its own


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"day": "9999-12-31"}, "day", "out_of_range"),
        ({"day": "0001-01-01"}, "day", "out_of_range"),
        ({"day": "1899-12-31"}, "day", "out_of_range"),
        ({"count": "٣"}, "count", "invalid"),
        ({"count": "²"}, "count", "invalid"),
        ({"count": "9" * 30}, "count", "invalid"),  # beyond 64 bits
        ({"kind": "\x00"}, "kind", "invalid_choice"),
        ({"free": "a\x00b"}, "free", "null_characters_not_allowed"),
    ],
)
def test_console_forms_refuse_what_would_be_a_500(data, field, code):
    form = Filters(data)
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()[field]] == [code]


def test_console_forms_take_the_days_and_numbers_people_type():
    form = Filters({"day": "2100-12-31", "count": "１２"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == dt.date(2100, 12, 31)
    assert form.cleaned_data["count"] == 12
