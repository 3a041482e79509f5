"""Member input validation (F-01, F-03, F-45): pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric

from patron.members.models import Channel, CustomField, Gender
from patron.members.validation import (
    Invalid,
    clean_bool,
    clean_custom,
    clean_custom_value,
    clean_date,
    clean_email,
    clean_gender,
    clean_id_number,
    clean_lunar,
    clean_member_fields,
    clean_tags,
    clean_text,
    mask_id_number,
    mask_mobile,
    normalize_mobile,
)


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


VALID_ID = id_number("11010519491231002")  # 11010519491231002X
VALID_ID_2 = id_number("44030419900307451")  # 440304199003074510

# --- mobile ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        " 13800138000 ",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "0086 13800138000",
        "(138) 0013-8000",
        "138\t0013\u30008000",  # tab and an ideographic space
        "１３８００１３８０００",  # full-width digits from a Chinese input method
        "+８６ １３８ ００１３ ８０００",
        13800138000,
    ],
)
def test_normalize_mobile_accepts_common_shapes(raw):
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "mobile", ["13912345678", "15012345678", "16612345678", "17012345678", "19912345678"]
)
def test_normalize_mobile_accepts_assigned_prefixes(mobile):
    assert normalize_mobile(mobile) == mobile


@pytest.mark.parametrize(
    "raw",
    [
        "12012345678",  # 120: not a mobile prefix
        "10012345678",
        "11012345678",
        "14012345678",  # 140: not assigned
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "+1 13800138000",
        "+8613800138000x",
        "23800138000",
        "abcdefghijk",
        "٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits are not an 11-digit mainland number
        "¹³⁸⁰⁰¹³⁸⁰⁰⁰",  # superscripts: NFKC alone reads them as 13800138000
        "₁₃₈₀₀₁₃₈₀₀₀",
        "138 0013 800O",  # letter O
        "",
        None,
        True,
        13.8,
        ["13800138000"],
    ],
)
def test_normalize_mobile_rejects(raw):
    with pytest.raises(Invalid):
        normalize_mobile(raw)


def test_normalized_mobiles_are_ascii():
    assert normalize_mobile("1３８00138000").isascii()


def test_mask_mobile():
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("123") == "****"
    assert mask_mobile("") == "****"


# --- ID number -------------------------------------------------------------------------------


def test_clean_id_number_accepts_valid_numbers():
    assert clean_id_number(VALID_ID) == VALID_ID
    full_width = VALID_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert clean_id_number(full_width) == VALID_ID  # stored in ASCII, as typed in ASCII
    assert clean_id_number(VALID_ID.lower()) == VALID_ID
    assert clean_id_number(f"  {VALID_ID_2} ") == VALID_ID_2
    assert clean_id_number("") == ""
    assert clean_id_number(None) == ""


@pytest.mark.parametrize(
    "raw",
    [
        VALID_ID[:-1] + "1",  # wrong check digit
        VALID_ID_2[:-1] + "9",
        id_number("11010519491331002"),  # month 13
        id_number("11010519490230002"),  # 30 February
        id_number("99999919491231002"),  # no such place
        id_number("11010529991231002"),  # born in the future
        VALID_ID[:-2],  # too short
        VALID_ID + "1",  # too long
        "11010519491231002A",
        "1101051949123100²X",  # isdigit() passed these and int() failed: was a 500
        "፩፩0105194912310027",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # int() reads these: was accepted, stored as typed
        123456789012345678,
        ["x"],
    ],
)
def test_clean_id_number_rejects(raw):
    with pytest.raises(Invalid):
        clean_id_number(raw)


def test_mask_id_number():
    assert mask_id_number(VALID_ID) == "110" + "*" * 11 + "002X"
    assert mask_id_number("1234567") == ""
    assert mask_id_number("") == ""


# --- dates, booleans, text, choices ----------------------------------------------------------


def test_clean_date():
    assert clean_date("1990-03-07") == dt.date(1990, 3, 7)
    assert clean_date("1990/03/07") == dt.date(1990, 3, 7)
    assert clean_date(dt.datetime(1990, 3, 7, 12, 0)) == dt.date(1990, 3, 7)
    assert clean_date(dt.date(1990, 3, 7)) == dt.date(1990, 3, 7)
    assert clean_date("") is None
    assert clean_date(None) is None
    future = dt.date.today() + dt.timedelta(days=1)
    assert clean_date(future.isoformat(), allow_future=True) == future


@pytest.mark.parametrize(
    "raw",
    ["1990-02-30", "1990-13-01", "07/03/1990", "yesterday", "1899-12-31", 19900307, 1.5, ["x"]],
)
def test_clean_date_rejects(raw):
    with pytest.raises(Invalid):
        clean_date(raw)


def test_clean_date_rejects_the_future_unless_allowed():
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(Invalid):
        clean_date(tomorrow)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("yes", True),
        ("是", True),
        ("同意", True),
        (" Y ", True),
        ("no", False),
        ("否", False),
        ("", False),
        (None, False),
    ],
)
def test_clean_bool(raw, value):
    assert clean_bool(raw) is value


@pytest.mark.parametrize("raw", ["maybe", 2, 1.0, ["yes"]])
def test_clean_bool_rejects(raw):
    with pytest.raises(Invalid):
        clean_bool(raw)


def test_clean_text():
    assert clean_text("  张三 ", 50) == "张三"
    assert clean_text(None, 50) == ""
    assert clean_text(42, 50) == "42"
    assert clean_text("长" * 50, 50) == "长" * 50
    for bad in ("长" * 51, True, ["x"], {"a": 1}, "张\x00三"):
        with pytest.raises(Invalid):
            clean_text(bad, 50)


@pytest.mark.parametrize(
    ("raw", "gender"),
    [("M", Gender.MALE), ("男", Gender.MALE), ("female", Gender.FEMALE), ("女", Gender.FEMALE)]
    + [("u", Gender.UNKNOWN), ("", Gender.UNKNOWN), (None, Gender.UNKNOWN)],
)
def test_clean_gender(raw, gender):
    assert clean_gender(raw) == gender


def test_clean_gender_rejects():
    for bad in ("X", "man", 1):
        with pytest.raises(Invalid):
            clean_gender(bad)


def test_clean_email_and_lunar():
    assert clean_email(" a@example.com ") == "a@example.com"
    assert clean_email("") == ""
    assert clean_lunar("08-15") == "08-15"
    assert clean_lunar("12-30") == "12-30"
    for bad in ("a@", "not an email"):
        with pytest.raises(Invalid):
            clean_email(bad)
    for bad in ("13-01", "08-31", "8-15", "08/15", "00-10"):
        with pytest.raises(Invalid):
            clean_lunar(bad)


# --- tags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "tags"),
    [
        ("商务，亲子;高频、VIP", ["VIP", "亲子", "商务", "高频"]),  # Chinese and Latin separators
        ("商务,商务, 亲子 ；", ["亲子", "商务"]),
        (["b", " a ", "a", ""], ["a", "b"]),
        ("", []),
        (None, []),
        ([], []),
    ],
)
def test_clean_tags(raw, tags):
    assert clean_tags(raw) == tags


@pytest.mark.parametrize(
    "raw", [[f"t{i}" for i in range(21)], ["长" * 31], [1, 2], {"a": 1}, 5, ["a\x00"]]
)
def test_clean_tags_rejects(raw):
    with pytest.raises(Invalid):
        clean_tags(raw)


# --- custom fields ---------------------------------------------------------------------------


def field(key: str, kind: str, choices=None, required: bool = False) -> CustomField:
    return CustomField(key=key, label=key, kind=kind, choices=choices or [], required=required)


SIZE = field("size", CustomField.Kind.CHOICE, ["S", "M", "L"])
COLOUR = field("colour", CustomField.Kind.TEXT)
SHOE = field("shoe", CustomField.Kind.NUMBER)
DAY = field("anniversary", CustomField.Kind.DATE)
BLOOD = field("blood", CustomField.Kind.CHOICE, ["A", "B", "AB", "O"], required=True)


@pytest.mark.parametrize(
    ("definition", "raw", "value"),
    [
        (SIZE, "M", "M"),
        (COLOUR, " 红色 ", "红色"),
        (COLOUR, 7, "7"),
        (SHOE, "42", 42),
        (SHOE, 42.5, 42.5),
        (SHOE, " 39 ", 39),
        (SHOE, "３９", 39),  # full-width, from an input method
        (SHOE, -3, -3),
        (DAY, "2020-05-20", "2020-05-20"),
        (DAY, "2099-01-01", "2099-01-01"),  # a custom date may be in the future
        (SIZE, None, None),
        (SHOE, "", None),
    ],
)
def test_custom_values_by_kind(definition, raw, value):
    assert clean_custom_value(definition, raw) == value


@pytest.mark.parametrize(
    ("definition", "raw"),
    [
        (SIZE, "XL"),
        (SIZE, "m"),
        (SIZE, ["M"]),
        (COLOUR, "红" * 201),
        (COLOUR, {"a": 1}),
        (SHOE, "big"),
        (SHOE, "٣٩"),  # float() reads it as 39
        (SHOE, "³⁹"),
        (SHOE, True),
        (SHOE, "nan"),
        (SHOE, "inf"),
        (SHOE, float("inf")),
        (SHOE, 10**13),
        (SHOE, 10**400),  # float() of it overflows
        (SHOE, [1]),
        (DAY, "2020-13-01"),
        (DAY, 20200520),
        (BLOOD, None),
        (BLOOD, ""),
    ],
)
def test_custom_values_rejected(definition, raw):
    with pytest.raises(Invalid):
        clean_custom_value(definition, raw)


def test_clean_custom_full_and_partial():
    definitions = [SIZE, COLOUR, SHOE, BLOOD]
    values, errors = clean_custom(definitions, {"size": "S", "blood": "O"}, partial=False)
    assert (values, errors) == ({"size": "S", "blood": "O"}, [])

    values, errors = clean_custom(definitions, {"size": "S"}, partial=False)
    assert [e.field for e in errors] == ["custom.blood"]  # required and missing

    values, errors = clean_custom(definitions, None, partial=False)
    assert [e.field for e in errors] == ["custom.blood"]

    current = {"size": "S", "colour": "红", "blood": "O"}
    values, errors = clean_custom(
        definitions, {"size": "L", "colour": None}, partial=True, current=current
    )
    assert errors == []
    assert values == {"size": "L", "blood": "O"}  # colour cleared, blood kept
    assert current == {"size": "S", "colour": "红", "blood": "O"}  # not mutated

    values, errors = clean_custom(definitions, {"blood": ""}, partial=True, current=current)
    assert [e.field for e in errors] == ["custom.blood"]


def test_clean_custom_lists_every_error():
    raw = {"nope": 1, "other": 2, "size": "XXL", "shoe": "big"}
    _, errors = clean_custom([SIZE, SHOE, BLOOD], raw, partial=False)
    assert sorted(e.field for e in errors) == [
        "custom.blood",
        "custom.nope",
        "custom.other",
        "custom.shoe",
        "custom.size",
    ]


@pytest.mark.parametrize("raw", [["x"], "size=M", 5])
def test_clean_custom_needs_an_object(raw):
    values, errors = clean_custom([SIZE], raw, partial=False)
    assert values == {}
    assert [e.field for e in errors] == ["custom"]


# --- whole member ----------------------------------------------------------------------------


def test_clean_member_fields_full():
    cleaned, errors = clean_member_fields(
        {
            "mobile": "+86 13800138000",
            "name": " 张三 ",
            "gender": "男",
            "birthday": "1990-03-07",
            "id_number": VALID_ID.lower(),
            "tags": "商务，亲子",
            "consent_sms": "是",
            "income_band": "middle",
            "source_channel": "",
        },
        partial=False,
    )
    assert errors == []
    assert cleaned == {
        "mobile": "13800138000",
        "name": "张三",
        "gender": Gender.MALE,
        "birthday": dt.date(1990, 3, 7),
        "id_number": VALID_ID,
        "tags": ["亲子", "商务"],
        "consent_sms": True,
        "income_band": "middle",
    }


def test_clean_member_fields_requires_mobile_unless_partial():
    _, errors = clean_member_fields({"name": "张三"}, partial=False)
    assert [e.field for e in errors] == ["mobile"]
    cleaned, errors = clean_member_fields({"name": "张三"}, partial=True)
    assert (cleaned, errors) == ({"name": "张三"}, [])


def test_clean_member_fields_lists_every_error():
    _, errors = clean_member_fields(
        {
            "mobile": "120",
            "birthday": "2999-01-01",
            "id_number": "1",
            "email": "x",
            "gender": "?",
            "income_band": "rich",
            "source_channel": "fax",
        },
        partial=False,
    )
    assert {e.field for e in errors} == {
        "mobile",
        "birthday",
        "id_number",
        "email",
        "gender",
        "income_band",
        "source_channel",
    }
    assert all(e.message for e in errors)


def test_source_channel_is_one_of_the_channels():
    cleaned, errors = clean_member_fields({"source_channel": Channel.QR}, partial=True)
    assert (cleaned, errors) == ({"source_channel": "qr"}, [])
