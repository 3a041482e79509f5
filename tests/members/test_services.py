"""Member services (F-01, F-03, F-04, F-06, F-38, F-45, F-46): every write validated, scoped
and audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from stdnum import luhn
from stdnum.cn import ric

from patron.core.errors import Conflict, ValidationFailed
from patron.members.models import Channel, ConsentRecord, CustomField, Member, Tag
from patron.members.selectors import present_member, search_members
from patron.members.services import (
    REFERRAL_ALPHABET,
    allocate_card_numbers,
    bulk_register,
    define_custom_field,
    record_personal_data_view,
    register_member,
    resolve_referrer,
    update_member,
)
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_api_key, create_merchant, create_staff, update_store

VALID_ID = "11010519491231002" + ric.calc_check_digit("11010519491231002" + "0")


def fields_of(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


def consents(member: Member) -> list[tuple[str, bool, str]]:
    return [(c.topic, c.granted, c.method) for c in member.consents.order_by("id")]


# --- register --------------------------------------------------------------------------------


def test_register_member_with_every_profile_field(hq, stores):
    define_custom_field(hq, "size", "尺码", CustomField.Kind.CHOICE, ["S", "M", "L"])
    member = register_member(
        hq,
        {
            "mobile": "+86 138 0013 8000",
            "name": "张三",
            "gender": "男",
            "birthday": "1990-03-07",
            "lunar_birthday": "02-10",
            "id_number": VALID_ID,
            "email": "zs@example.com",
            "region": "浙江杭州",
            "address": "西湖区",
            "occupation": "教师",
            "income_band": "middle",
            "tags": "商务，亲子",
            "consent_sms": True,
            "store": "S2",
            "custom": {"size": "M"},
        },
    )
    member.refresh_from_db()
    assert member.mobile == "13800138000"
    assert (member.name, member.gender, str(member.birthday)) == ("张三", "M", "1990-03-07")
    assert member.id_number == VALID_ID
    assert member.store == stores["S2"]
    assert member.custom == {"size": "M"}
    assert sorted(member.tags.values_list("name", flat=True)) == ["亲子", "商务"]
    assert member.recruited_by == hq.staff.user
    assert member.source_channel == Channel.CONSOLE
    assert member.status == "active"
    assert luhn.is_valid(member.card_no)
    assert len(member.referral_code) == 8
    assert set(member.referral_code) <= set(REFERRAL_ALPHABET)


def test_register_is_audited_with_personal_fields_masked(hq, stores):
    member = register_member(hq, {"mobile": "13800138000", "id_number": VALID_ID, "name": "张三"})
    entry = AuditEntry.objects.get(object_type="member")
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.object_id == str(member.pk)
    assert entry.object_repr == member.card_no
    assert entry.user == hq.staff.user
    assert entry.ip == "127.0.0.1"
    assert entry.changes["mobile"] == ["***", "***"]
    assert entry.changes["id_number"] == ["***", "***"]
    assert entry.changes["name"] == [None, "张三"]
    text = str(entry.changes)
    assert "13800138000" not in text and VALID_ID not in text


def test_source_channel_follows_the_actor(system, hq, cashier, stores):
    key, _ = create_api_key(system)
    api_actor = Actor(merchant=system.merchant, api_key=key, channel="api")
    assert register_member(api_actor, {"mobile": "13800138001"}).source_channel == Channel.API
    assert register_member(cashier, {"mobile": "13800138002"}).source_channel == Channel.TILL
    assert register_member(hq, {"mobile": "13800138003"}).source_channel == Channel.CONSOLE
    explicit = register_member(hq, {"mobile": "13800138004", "source_channel": "qr"})
    assert explicit.source_channel == Channel.QR
    blank = register_member(hq, {"mobile": "13800138005", "source_channel": ""})
    assert blank.source_channel == Channel.CONSOLE
    by_argument = register_member(hq, {"mobile": "13800138006"}, channel=Channel.H5)
    assert by_argument.source_channel == Channel.H5


def test_register_rejects_with_every_error_and_writes_nothing(hq, stores):
    with pytest.raises(ValidationFailed) as caught:
        register_member(
            hq,
            {
                "mobile": "12012345678",
                "birthday": "2999-01-01",
                "store": "NOPE",
                "referrer_code": "NOSUCH",
                "custom": {"nope": 1},
            },
        )
    assert fields_of(caught.value) == {
        "mobile",
        "birthday",
        "store",
        "referrer_code",
        "custom.nope",
    }
    assert caught.value.status == 422
    assert not Member.objects.exists()
    assert not AuditEntry.objects.filter(object_type="member").exists()
    assert not ConsentRecord.objects.exists()


def test_duplicate_mobile_is_a_conflict(hq, stores):
    register_member(hq, {"mobile": "13800138000"})
    for mobile in ("13800138000", "+86 138-0013-8000", "１３８００１３８０００"):
        with pytest.raises(Conflict) as caught:
            register_member(hq, {"mobile": mobile})
        assert caught.value.code == "duplicate_mobile"
        assert fields_of(caught.value) == {"mobile"}
    assert Member.objects.count() == 1


def test_the_same_mobile_at_another_merchant_is_another_member(hq, stores):
    register_member(hq, {"mobile": "13800138000"})
    other = Actor.system(create_merchant("other", "Other"))
    assert register_member(other, {"mobile": "13800138000"}).merchant == other.merchant


@pytest.mark.postgres  # PostgreSQL cannot store or compare text holding NUL
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "张\x00三"}, "name"),
        ({"address": "\x00"}, "address"),
        ({"tags": ["a\x00"]}, "tags"),
        ({"store": "S1\x00"}, "store"),
        ({"referrer_code": "AB\x00"}, "referrer_code"),
    ],
)
def test_nul_characters_are_refused_before_the_database(hq, stores, data, field):
    with pytest.raises(ValidationFailed) as caught:
        register_member(hq, {"mobile": "13800138000", **data})
    assert fields_of(caught.value) == {field}
    assert not Member.objects.exists()


# --- stores and roles ------------------------------------------------------------------------


def test_store_bound_cashier_registers_at_their_own_store(cashier, stores):
    member = register_member(cashier, {"mobile": "13800138000"})
    assert member.store == stores["S1"]
    assert register_member(cashier, {"mobile": "13800138001", "store": "S1"}).store == stores["S1"]


def test_store_bound_cashier_cannot_register_into_another_store(cashier, stores):
    with pytest.raises(ValidationFailed) as caught:
        register_member(cashier, {"mobile": "13800138000", "store": "S2"})
    assert fields_of(caught.value) == {"store"}
    with pytest.raises(ValidationFailed):
        register_member(cashier, {"mobile": "13800138000", "store": stores["S2"]})
    assert not Member.objects.exists()


def test_store_bound_manager_cannot_move_a_member_to_another_store(system, stores):
    manager = Actor(
        system.merchant, create_staff(system, "m1", "password123", Role.STORE_MANAGER, stores["S1"])
    )
    member = register_member(manager, {"mobile": "13800138000"})
    with pytest.raises(ValidationFailed):
        update_member(manager, member, {"store": "S2"})
    member.refresh_from_db()
    assert member.store == stores["S1"]


def test_hq_registers_at_any_active_store_or_none(hq, stores):
    assert register_member(hq, {"mobile": "13800138000", "store": "S2"}).store == stores["S2"]
    assert register_member(hq, {"mobile": "13800138001"}).store is None
    update_store(hq, stores["S2"], is_active=False)
    with pytest.raises(ValidationFailed):
        register_member(hq, {"mobile": "13800138002", "store": "S2"})


def test_another_merchants_store_is_unknown(hq, stores):
    other = Actor.system(create_merchant("other", "Other"))
    from patron.tenancy.services import create_store

    their_store = create_store(other, "S9", "别家")
    with pytest.raises(ValidationFailed):
        register_member(hq, {"mobile": "13800138000", "store": their_store})
    with pytest.raises(ValidationFailed):
        register_member(hq, {"mobile": "13800138000", "store": "S9"})


# --- consent history -------------------------------------------------------------------------


def test_consent_history_records_the_start_then_changes_only(hq, cashier, stores):
    member = register_member(cashier, {"mobile": "13800138000", "consent_sms": True})
    start = [("sms", True, "till"), ("wechat", False, "till"), ("email", False, "till")]
    assert consents(member) == start  # registration records what was asked and answered

    update_member(hq, member, {"consent_sms": True, "consent_email": False, "name": "张三"})
    assert consents(member) == start  # nothing changed for consent

    update_member(hq, member, {"consent_sms": "否", "consent_wechat": "是"})
    assert consents(member) == [
        *start,
        ("sms", False, "console"),
        ("wechat", True, "console"),
    ]
    latest = member.consents.order_by("-id").first()
    assert latest.recorded_by == hq.staff.user
    member.refresh_from_db()
    assert (member.consent_sms, member.consent_wechat, member.consent_email) == (
        False,
        True,
        False,
    )


# --- update ----------------------------------------------------------------------------------


def test_update_member_changes_only_given_fields_and_audits_old_and_new(hq, stores):
    member = register_member(
        hq, {"mobile": "13800138000", "name": "张三", "store": "S1", "tags": ["a"]}
    )
    update_member(hq, member, {"name": "张三丰", "tags": ["a", "b"], "mobile": "13900139000"})
    member.refresh_from_db()
    assert (member.name, member.mobile, member.store) == ("张三丰", "13900139000", stores["S1"])
    assert sorted(member.tags.values_list("name", flat=True)) == ["a", "b"]
    entry = AuditEntry.objects.get(object_type="member", action="update")
    assert entry.changes == {
        "mobile": ["***", "***"],
        "name": ["张三", "张三丰"],
        "tags": [["a"], ["a", "b"]],
    }


def test_update_member_without_changes_writes_nothing(hq, stores):
    member = register_member(hq, {"mobile": "13800138000", "name": "张三"})
    update_member(hq, member, {"name": " 张三 ", "mobile": "+8613800138000"})
    update_member(hq, member, {})
    assert not AuditEntry.objects.filter(object_type="member", action="update").exists()


def test_update_member_never_changes_source_channel(hq, stores):
    member = register_member(hq, {"mobile": "13800138000"})
    update_member(hq, member, {"source_channel": "qr"})
    member.refresh_from_db()
    assert member.source_channel == Channel.CONSOLE


def test_update_to_another_members_mobile_is_a_conflict(hq, stores):
    register_member(hq, {"mobile": "13800138000"})
    member = register_member(hq, {"mobile": "13900139000"})
    with pytest.raises(Conflict) as caught:
        update_member(hq, member, {"mobile": "13800138000"})
    assert caught.value.code == "duplicate_mobile"
    member.refresh_from_db()
    assert member.mobile == "13900139000"


def test_update_member_validation_writes_nothing(hq, stores):
    member = register_member(hq, {"mobile": "13800138000", "name": "张三"})
    before = (AuditEntry.objects.count(), ConsentRecord.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        update_member(hq, member, {"name": "李四", "consent_sms": True, "birthday": "2999-01-01"})
    assert fields_of(caught.value) == {"birthday"}
    member.refresh_from_db()
    assert (member.name, member.consent_sms) == ("张三", False)
    assert (AuditEntry.objects.count(), ConsentRecord.objects.count()) == before


def test_update_member_custom_fields_partially(hq, stores):
    define_custom_field(hq, "size", "尺码", CustomField.Kind.CHOICE, ["S", "M"])
    define_custom_field(hq, "colour", "颜色", CustomField.Kind.TEXT)
    member = register_member(hq, {"mobile": "13800138000", "custom": {"size": "S", "colour": "红"}})
    update_member(hq, member, {"custom": {"size": "M"}})
    member.refresh_from_db()
    assert member.custom == {"size": "M", "colour": "红"}
    update_member(hq, member, {"custom": {"colour": None}})
    member.refresh_from_db()
    assert member.custom == {"size": "M"}
    with pytest.raises(ValidationFailed) as caught:
        update_member(hq, member, {"custom": {"size": "XL", "nope": 1}})
    assert fields_of(caught.value) == {"custom.size", "custom.nope"}


# --- custom field definitions ----------------------------------------------------------------


def test_define_custom_field_creates_then_updates(hq):
    created = define_custom_field(hq, "blood", "血型", CustomField.Kind.CHOICE, ["A", "B"])
    updated = define_custom_field(
        hq, "blood", "血型 ABO", CustomField.Kind.CHOICE, ["A", "B", "AB", "O"], required=True
    )
    assert created.pk == updated.pk
    assert (updated.label, updated.choices, updated.required) == (
        "血型 ABO",
        ["A", "B", "AB", "O"],
        True,
    )
    actions = list(
        AuditEntry.objects.filter(object_type="customfield")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]


@pytest.mark.parametrize(
    ("key", "label", "kind", "choices", "field"),
    [
        ("size", "尺码", "colour", None, "kind"),
        ("size", "尺码", CustomField.Kind.CHOICE, [], "choices"),
        ("has space", "尺码", CustomField.Kind.TEXT, None, "key"),
        ("", "尺码", CustomField.Kind.TEXT, None, "key"),
        ("k" * 41, "尺码", CustomField.Kind.TEXT, None, "key"),
        ("size", "", CustomField.Kind.TEXT, None, "label"),
        ("size", "标" * 61, CustomField.Kind.TEXT, None, "label"),
    ],
)
def test_define_custom_field_rejects(hq, key, label, kind, choices, field):
    with pytest.raises(ValidationFailed) as caught:
        define_custom_field(hq, key, label, kind, choices)
    assert field in fields_of(caught.value)
    assert not CustomField.objects.exists()


# --- referral --------------------------------------------------------------------------------


def test_referral_code_resolution(hq, stores):
    referrer = register_member(hq, {"mobile": "13800138000"})
    code = referrer.referral_code
    for given in (code, code.lower(), f"  {code} "):
        assert resolve_referrer(hq.merchant, given) == (referrer, [])
    assert resolve_referrer(hq.merchant, "") == (None, [])
    assert resolve_referrer(hq.merchant, None) == (None, [])
    for bad in ("NOSUCH", 12345678, ["x"]):
        found, errors = resolve_referrer(hq.merchant, bad)
        assert found is None
        assert [e.field for e in errors] == ["referrer_code"]
    other = Actor.system(create_merchant("other", "Other"))
    assert resolve_referrer(other.merchant, code)[0] is None  # codes are per merchant

    referee = register_member(hq, {"mobile": "13900139000", "referrer_code": code.lower()})
    assert referee.referred_by == referrer
    assert list(referrer.referrals.all()) == [referee]


def test_a_referral_code_collision_draws_another_code(hq, stores, monkeypatch):
    from patron.members import services

    taken = register_member(hq, {"mobile": "13800138000"}).referral_code
    codes = iter([taken, taken, "FRESHCDE"])
    monkeypatch.setattr(services, "new_referral_code", lambda: next(codes))
    member = register_member(hq, {"mobile": "13900139000"})  # not a "duplicate mobile"
    assert member.referral_code == "FRESHCDE"
    assert Member.objects.count() == 2


def test_a_referral_code_that_keeps_colliding_is_not_retried_forever(hq, stores, monkeypatch):
    from patron.members import services

    taken = register_member(hq, {"mobile": "13800138000"}).referral_code
    monkeypatch.setattr(services, "new_referral_code", lambda: taken)
    with pytest.raises(Conflict):
        register_member(hq, {"mobile": "13900139000"})
    assert Member.objects.count() == 1


# --- card numbers ----------------------------------------------------------------------------


def test_card_numbers_are_unique_and_luhn_valid(hq, stores):
    singles = [register_member(hq, {"mobile": f"1380013800{i}"}).card_no for i in range(5)]
    batch = allocate_card_numbers(hq.merchant, 200)
    numbers = singles + batch
    assert len(set(numbers)) == len(numbers) == 205
    assert all(luhn.is_valid(n) and n.startswith("8") and len(n) == 10 for n in numbers)
    hq.merchant.refresh_from_db()
    assert hq.merchant.card_seq == 205


def test_card_numbers_are_per_merchant(hq):
    # Each merchant counts its own sequence under its own prefix (F-42: numbers unique across
    # merchants, tests/network/test_alliance_cards.py).
    other = create_merchant("other", "Other")
    mine, theirs = allocate_card_numbers(hq.merchant, 1)[0], allocate_card_numbers(other, 1)[0]
    assert mine[1:-1] == theirs[2:-1] == "00000001"
    assert mine != theirs and theirs.startswith("81")


def test_one_changed_digit_breaks_the_check_digit(hq):
    number = allocate_card_numbers(hq.merchant, 1)[0]
    for position in range(len(number)):
        digit = str((int(number[position]) + 1) % 10)
        assert not luhn.is_valid(number[:position] + digit + number[position + 1 :])


# --- personal data ---------------------------------------------------------------------------


def test_id_number_is_encrypted_in_the_database(hq, stores):
    one = register_member(hq, {"mobile": "13800138000", "id_number": VALID_ID})
    two = register_member(hq, {"mobile": "13900139000", "id_number": VALID_ID})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number FROM members_member WHERE id IN (%s, %s) ORDER BY id",
            [one.pk, two.pk],
        )
        stored = [row[0] for row in cursor.fetchall()]
    assert all(VALID_ID not in value and "1949" not in value for value in stored)
    assert stored[0] != stored[1]  # no equal ciphertexts to compare
    assert Member.objects.get(pk=one.pk).id_number == VALID_ID
    none = register_member(hq, {"mobile": "13700137000"})
    assert Member.objects.get(pk=none.pk).id_number == ""


def test_id_number_cannot_be_read_with_another_secret(hq, stores):
    member = register_member(hq, {"mobile": "13800138000", "id_number": VALID_ID})
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only"):
        assert Member.objects.get(pk=member.pk).id_number == ""


def test_personal_data_is_masked_by_role(hq, cashier, marketer, stores):
    member = register_member(hq, {"mobile": "13800138000", "id_number": VALID_ID, "store": "S1"})
    shown = {
        name: present_member(actor, member)
        for name, actor in (("hq", hq), ("cashier", cashier), ("marketer", marketer))
    }
    assert shown["hq"]["mobile"] == "13800138000"
    assert shown["hq"]["id_number"] == VALID_ID
    for role in ("cashier", "marketer"):
        assert shown[role]["mobile"] == "138****8000"
        assert shown[role]["id_number"] == "110***********002X"
    assert all(s["mobile_masked"] == "138****8000" for s in shown.values())


def test_viewing_personal_data_is_audited_for_staff_who_see_it(hq, cashier, system, stores):
    member = register_member(hq, {"mobile": "13800138000"})
    record_personal_data_view(hq, member)
    record_personal_data_view(cashier, member)  # sees masked data: nothing to audit
    record_personal_data_view(system, member)  # the CLI is not a person viewing a page
    views = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW)
    assert [(v.user, v.object_id) for v in views] == [(hq.staff.user, str(member.pk))]


def test_search_members_is_scoped_for_a_cashier(hq, cashier, stores):
    register_member(hq, {"mobile": "13800138000", "name": "王五", "store": "S1"})
    register_member(hq, {"mobile": "13800138001", "name": "王六", "store": "S2"})
    assert search_members(hq, "王").count() == 2
    assert [m.name for m in search_members(cashier, "王")] == ["王五"]
    assert [m.name for m in search_members(cashier, "138001380")] == ["王五"]


# --- bulk ------------------------------------------------------------------------------------


def test_bulk_register_writes_members_tags_consents_and_audit(hq, stores):
    rows = [
        {"mobile": "13800138000", "name": "甲", "tags": ["a", "b"], "consent_sms": True},
        {"mobile": "13800138001", "name": "乙", "store": stores["S2"], "custom": {"x": 1}},
    ]
    members = bulk_register(hq, rows, channel=Channel.IMPORT)
    assert [m.mobile for m in members] == ["13800138000", "13800138001"]
    assert all(luhn.is_valid(m.card_no) for m in members)
    assert len({m.referral_code for m in members}) == 2
    first, second = (Member.objects.get(mobile=m.mobile) for m in members)
    assert sorted(first.tags.values_list("name", flat=True)) == ["a", "b"]
    assert (second.store, second.custom) == (stores["S2"], {"x": 1})
    assert consents(first) == [("sms", True, "import")]
    assert consents(second) == []
    assert AuditEntry.objects.filter(object_type="member", action="create").count() == 2
    assert Tag.objects.filter(merchant=hq.merchant).count() == 2
