"""Every field and operator of the filter language (API.md §8) on a fixed set of four members
(tests/insight/segments_support.py), on SQLite and PostgreSQL; nesting; every bad input."""

from __future__ import annotations

import pytest

from patron.core.errors import ValidationFailed
from patron.insight import segments
from patron.insight.filters import MAX_CONDITIONS, MAX_DEPTH, compile_filter, row_count_filter
from patron.members.models import Member
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant, create_store
from tests.insight import segments_support as support

pytestmark = pytest.mark.postgres

CASES = [
    ("gender", "eq", "F", "AD"),
    ("gender", "ne", "F", "BC"),
    ("gender", "in", ["M", "U"], "BC"),
    ("gender", "not_in", ["F", "M"], "C"),
    ("age", "eq", 30, "A"),
    ("age", "eq", 29, "B"),  # 30 tomorrow
    ("age", "gte", 30, "AD"),
    ("age", "lte", 29, "B"),
    ("age", "between", [29, 30], "AB"),
    ("age", "ne", 30, "BCD"),  # C has no birthday: "not 30" includes them
    ("age", "in", [29, 45], "BD"),
    ("age", "not_in", [30, 45], "BC"),
    ("birthday_month", "eq", 3, "AB"),
    ("birthday_month", "ne", 3, "CD"),
    ("birthday_month", "gte", 4, "D"),
    ("birthday_month", "lte", 3, "AB"),
    ("birthday_month", "between", [1, 6], "AB"),
    ("birthday_month", "in", [7, 12], "D"),
    ("birthday_month", "not_in", [3], "CD"),
    ("region", "eq", "上海", "B"),
    ("region", "ne", "上海", "ACD"),
    ("region", "contains", "浙江", "AD"),
    ("region", "in", ["上海", "浙江宁波"], "BD"),
    ("region", "not_in", ["上海"], "ACD"),
    ("tier", "eq", "normal", "AC"),  # C's own tier is inactive: they are on rank 0
    ("tier", "eq", "gold", "BD"),
    ("tier", "eq", "old", ""),
    ("tier", "ne", "gold", "AC"),
    ("tier", "in", ["normal", "gold"], "ABCD"),
    ("tier", "not_in", ["normal"], "BD"),
    ("tags", "eq", "vip", "AB"),
    ("tags", "contains", "new", "BD"),
    ("tags", "in", ["vip", "new"], "ABD"),
    ("tags", "not_in", ["vip", "new"], "C"),
    ("tags", "ne", "vip", "CD"),
    ("store", "eq", "S1", "AD"),
    ("store", "ne", "S1", "BC"),
    ("store", "in", ["S1", "S2"], "ABD"),
    ("store", "not_in", ["S2"], "ACD"),
    ("joined_at", "eq", "2024-01-15", "AD"),  # D at 23:30 local is the 15th
    ("joined_at", "eq", "2025-01-01", "C"),  # 00:10 local is still 31 December in UTC
    ("joined_at", "gte", "2024-06-01", "BC"),
    ("joined_at", "lte", "2024-12-31", "ABD"),
    ("joined_at", "between", ["2024-01-16", "2025-01-01"], "BC"),
    ("channel", "eq", "till", "AD"),
    ("channel", "ne", "till", "BC"),
    ("channel", "in", ["qr", "import"], "BC"),
    ("channel", "not_in", ["till", "qr"], "C"),
    ("lifecycle", "eq", "active", "A"),
    ("lifecycle", "ne", "dormant", "ACD"),  # never scored is "not dormant"
    ("lifecycle", "in", ["active", "inert"], "AD"),
    ("lifecycle", "not_in", ["active"], "BCD"),
    ("rfm", "eq", "555", "A"),
    ("rfm", "ne", "555", "BCD"),
    ("rfm", "in", ["111", "345"], "BD"),
    ("rfm", "not_in", ["111"], "ACD"),
    ("r", "eq", 5, "A"),
    ("r", "ne", 5, "BCD"),
    ("r", "gte", 3, "AD"),
    ("r", "lte", 3, "BD"),
    ("r", "between", [2, 4], "D"),
    ("r", "in", [1, 3], "BD"),
    ("r", "not_in", [1], "ACD"),
    ("f", "gte", 4, "AD"),
    ("m", "eq", 5, "AD"),
    ("p_alive", "gte", 0.5, "A"),
    ("p_alive", "lte", 0.5, "B"),
    ("p_alive", "between", [0, 1], "AB"),  # D's is not computed, C has no row
    ("spend_12m", "eq", 0, "BC"),  # C never bought: 0
    ("spend_12m", "ne", 0, "AD"),
    ("spend_12m", "gte", 50000, "AD"),
    ("spend_12m", "lte", 100, "BC"),
    ("spend_12m", "between", [1, 60000], "A"),
    ("spend_12m", "between", [0, 60000], "ABC"),
    ("visits_12m", "eq", 0, "BC"),
    ("visits_12m", "ne", 10, "BCD"),
    ("visits_12m", "gte", 3, "AD"),
    ("visits_12m", "lte", 3, "BCD"),
    ("visits_12m", "between", [1, 5], "D"),
    ("visits_12m", "in", [3, 10], "AD"),
    ("visits_12m", "not_in", [0], "AD"),
    ("last_visit_days", "eq", 3, "A"),
    ("last_visit_days", "eq", 30, "D"),  # 00:30 local, 30 local days ago
    ("last_visit_days", "eq", 29, ""),
    ("last_visit_days", "lte", 30, "AD"),
    ("last_visit_days", "gte", 30, "BD"),  # C never visited: no figure, no match
    ("last_visit_days", "gte", 31, "B"),
    ("last_visit_days", "between", [4, 30], "D"),
    ("avg_ticket", "eq", 0, "C"),
    ("avg_ticket", "ne", 0, "ABD"),
    ("avg_ticket", "gte", 5000, "AD"),
    ("avg_ticket", "lte", 2000, "BC"),
    ("avg_ticket", "between", [1000, 6000], "AB"),
    ("points", "eq", 0, "BC"),  # B has an empty account, C none
    ("points", "ne", 0, "AD"),
    ("points", "gte", 100, "A"),
    ("points", "lte", 50, "BCD"),
    ("points", "between", [1, 100], "D"),
    ("stored_value", "eq", 0, "BC"),
    ("stored_value", "ne", 0, "AD"),
    ("stored_value", "gte", 10500, "A"),  # principal 10000 + bonus 500
    ("stored_value", "lte", 300, "BCD"),
    ("stored_value", "between", [200, 10000], "D"),
    ("stored_value", "between", [0, 0], "BC"),
    ("categories_bought", "eq", "shoes", "A"),
    ("categories_bought", "contains", "bags", "B"),
    ("categories_bought", "in", ["shoes", "bags"], "AB"),
    ("categories_bought", "not_in", ["shoes"], "BCD"),
    ("categories_bought", "ne", "shoes", "BCD"),
    ("skus_bought", "eq", "SKU1", "D"),
    ("sizes_bought", "in", ["40", "42"], "AD"),
    ("colours_bought", "eq", "red", "B"),
    ("colours_bought", "not_in", ["red"], "ACD"),
    ("consent_sms", "eq", True, "A"),
    ("consent_sms", "ne", True, "BCD"),
    ("consent_wechat", "eq", True, "B"),
    ("consent_email", "eq", True, "D"),
    ("consent_email", "eq", False, "ABC"),
    ("custom.size", "eq", "L", "AD"),
    ("custom.size", "ne", "L", "BC"),  # C has no size: "not L"
    ("custom.size", "in", ["M"], "B"),
    ("custom.size", "not_in", ["L"], "BC"),
    ("custom.height", "eq", 170, "A"),
    ("custom.height", "ne", 170, "BCD"),
    ("custom.height", "gte", 175, "B"),
    ("custom.height", "lte", 175, "A"),
    ("custom.height", "between", [160, 185], "AB"),
    ("custom.height", "in", [170, 180], "AB"),
    ("custom.since", "eq", "2020-05-01", "A"),
    ("custom.since", "gte", "2020-01-01", "A"),
    ("custom.since", "lte", "2019-12-31", ""),
    ("custom.since", "between", ["2020-01-01", "2020-12-31"], "A"),
    ("custom.note", "contains", "蓝", "A"),
    ("custom.note", "eq", "老客户", "D"),
    ("custom.note", "ne", "老客户", "ABC"),
]


@pytest.fixture
def members(merchant, stores, system):
    built = support.build(merchant, stores)
    # Another merchant's member who matches everything must never appear.
    other = create_merchant("other", "Other")
    other_stores = {"S1": create_store(Actor.system(other), "S1", "x")}
    support.member(other, "X", gender="F", store=other_stores["S1"], joined_at=support.NOW)
    return built


def matches(merchant, node) -> str:
    q = compile_filter(merchant, node, now=support.NOW)
    names = Member.objects.filter(merchant=merchant).filter(q).values_list("name", flat=True)
    return "".join(sorted(names))


@pytest.mark.parametrize(("field", "op", "value", "expected"), CASES)
def test_field_and_operator(merchant, members, field, op, value, expected):
    node = {"all": [{"field": field, "op": op, "value": value}]}
    assert matches(merchant, node) == expected


def test_every_field_of_the_contract_is_covered():
    fields = {case[0] for case in CASES}
    contract = [
        "gender",
        "age",
        "birthday_month",
        "region",
        "tier",
        "tags",
        "store",
        "joined_at",
        "channel",
        "lifecycle",
        "rfm",
        "r",
        "f",
        "m",
        "p_alive",
        "spend_12m",
        "visits_12m",
        "last_visit_days",
        "avg_ticket",
        "points",
        "stored_value",
        "categories_bought",
        "skus_bought",
        "sizes_bought",
        "colours_bought",
        "consent_sms",
        "consent_wechat",
        "consent_email",
    ]
    assert set(contract) <= fields
    assert any(f.startswith("custom.") for f in fields)


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def test_nesting_any_of_all(merchant, members):
    node = {
        "any": [
            {"all": [cond("gender", "eq", "F"), cond("age", "gte", 40)]},
            cond("lifecycle", "eq", "dormant"),
        ]
    }
    assert matches(merchant, node) == "BD"


def test_nesting_all_of_any(merchant, members):
    node = {
        "all": [
            {"any": [cond("store", "eq", "S1"), cond("store", "eq", "S2")]},
            {"any": [cond("tags", "eq", "vip"), cond("spend_12m", "gte", 100000)]},
            cond("gender", "ne", "M"),
        ]
    }
    assert matches(merchant, node) == "AD"


def test_empty_groups(merchant, members):
    assert matches(merchant, {"all": []}) == "ABCD"
    assert matches(merchant, {"any": []}) == ""


def test_insight_conditions_share_one_join(merchant, members):
    node = {"all": [cond("lifecycle", "eq", "active"), cond("spend_12m", "gte", 1)]}
    q = compile_filter(merchant, node, now=support.NOW)
    sql = str(Member.objects.filter(q).values("pk").query)
    assert sql.count('JOIN "insight_memberinsight"') == 1
    assert "EXISTS" not in sql and "SELECT" not in sql.split("FROM", 1)[1]


def errors_of(merchant, node) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        compile_filter(merchant, node, now=support.NOW)
    assert failed.value.status == 422
    return [(e.field, str(e.message)) for e in failed.value.errors]


BAD = [
    (cond("shoe_size", "eq", 1), "filter.all[0].field"),
    (cond("custom.nope", "eq", 1), "filter.all[0].field"),
    (cond("gender", "like", "F"), "filter.all[0].op"),
    (cond("gender", "gte", "F"), "filter.all[0].op"),
    (cond("p_alive", "eq", 0.5), "filter.all[0].op"),
    (cond("gender", "eq", "X"), "filter.all[0].value"),
    (cond("age", "eq", "30"), "filter.all[0].value"),
    (cond("age", "eq", True), "filter.all[0].value"),
    (cond("age", "eq", -1), "filter.all[0].value"),
    (cond("birthday_month", "eq", 13), "filter.all[0].value"),
    (cond("spend_12m", "gte", 10.5), "filter.all[0].value"),
    (cond("spend_12m", "gte", 10**30), "filter.all[0].value"),
    (cond("custom.height", "gte", 1e300), "filter.all[0].value"),
    (cond("p_alive", "gte", 2), "filter.all[0].value"),
    (cond("consent_sms", "eq", "yes"), "filter.all[0].value"),
    (cond("joined_at", "gte", "2024-13-01"), "filter.all[0].value"),
    (cond("joined_at", "gte", "20240101"), "filter.all[0].value"),
    (cond("joined_at", "between", ["2024-02-01", "2024-01-01"]), "filter.all[0].value"),
    (cond("spend_12m", "between", [100, 1]), "filter.all[0].value"),
    (cond("spend_12m", "between", [1]), "filter.all[0].value"),
    (cond("spend_12m", "between", 5), "filter.all[0].value"),
    (cond("gender", "in", []), "filter.all[0].value"),
    (cond("gender", "in", "F"), "filter.all[0].value"),
    (cond("gender", "in", ["F", "Q"]), "filter.all[0].value[1]"),
    (cond("tier", "eq", "platinum"), "filter.all[0].value"),
    (cond("store", "in", ["S1", "S9"]), "filter.all[0].value[1]"),
    (cond("rfm", "eq", "565"), "filter.all[0].value"),
    (cond("lifecycle", "eq", ""), "filter.all[0].value"),
    (cond("custom.size", "eq", "XL"), "filter.all[0].value"),
    (cond("custom.height", "gte", "tall"), "filter.all[0].value"),
    ({"field": "gender", "op": "eq"}, "filter.all[0].value"),
    ({"field": "gender", "op": "eq", "value": "F", "extra": 1}, "filter.all[0].extra"),
    ("gender = F", "filter.all[0]"),
]


@pytest.mark.parametrize(("condition", "path"), BAD)
def test_bad_condition_names_its_path(merchant, members, condition, path):
    errors = errors_of(merchant, {"all": [cond("gender", "eq", "F"), condition][1:]})
    assert [field for field, _message in errors] == [path]
    assert all(message for _field, message in errors)


def test_every_error_at_once(merchant, members):
    node = {
        "all": [
            cond("nope", "eq", 1),
            {"any": [cond("age", "between", [40, 30]), cond("gender", "gte", "F")]},
            cond("tier", "eq", "platinum"),
        ]
    }
    assert [field for field, _ in errors_of(merchant, node)] == [
        "filter.all[0].field",
        "filter.all[1].any[0].value",
        "filter.all[1].any[1].op",
        "filter.all[2].value",
    ]


@pytest.mark.parametrize(
    "node",
    [None, [], "all", {"all": [], "any": []}, {"some": []}, {"all": "gender"}],
)
def test_bad_shape(merchant, node):
    assert [field for field, _ in errors_of(merchant, node)][0].startswith("filter")


def test_depth_and_size_are_bounded(merchant, members):
    node = cond("gender", "eq", "F")
    for _ in range(MAX_DEPTH + 1):
        node = {"all": [node]}
    assert len(errors_of(merchant, node)) == 1
    many = {"any": [cond("gender", "eq", "F")] * (MAX_CONDITIONS + 5)}
    assert [f for f, _ in errors_of(merchant, many)] == [f"filter.any[{MAX_CONDITIONS}]"]


ROW_FIELDS = (
    "lifecycle",
    "rfm",
    "r",
    "f",
    "m",
    "p_alive",
    "spend_12m",
    "visits_12m",
    "last_visit_days",
    "avg_ticket",
)


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"), [c for c in CASES if c[0] in ROW_FIELDS]
)
def test_count_on_insight_or_stats_rows_alone_agrees(
    merchant, system, members, field, op, value, expected
):
    node = {"all": [{"field": field, "op": op, "value": value}]}
    assert segments.count_members(system, node, now=support.NOW) == len(expected)
    # Only filters that no member without a row can meet are counted on the rows alone.
    fast = row_count_filter(merchant, node) is not None
    assert fast == (op not in ("ne", "not_in") and "C" not in expected)


def test_count_of_mixed_and_nested_filters_agrees(merchant, system, members):
    for node, expected in (
        ({"any": [cond("lifecycle", "eq", "active"), cond("r", "lte", 3)]}, 3),
        ({"all": [cond("lifecycle", "in", ["active", "inert"]), cond("gender", "eq", "F")]}, 2),
        ({"all": [cond("m", "eq", 5), {"any": []}]}, 0),
        ({"all": [cond("m", "eq", 5), cond("avg_ticket", "gte", 1)]}, 2),
        ({"all": [cond("lifecycle", "eq", "active"), cond("lifecycle", "ne", "inert")]}, 1),
        ({"all": []}, 4),
    ):
        assert segments.count_members(system, node) == expected
