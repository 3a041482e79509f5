"""Tenancy services: merchants, stores, staff roles, API keys, audit and scoping (F-43, F-46,
F-48)."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from patron.core.errors import Conflict, ValidationFailed
from patron.members.models import Member
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import ApiKey, AuditEntry, Merchant, Role, Staff, Store
from patron.tenancy.selectors import (
    api_key_from_authorization,
    api_key_from_token,
    audit_entries,
    merchant_by_slug,
    scoped,
    store_by_code,
)
from patron.tenancy.services import (
    create_api_key,
    create_merchant,
    create_staff,
    create_store,
    revoke_api_key,
    update_staff,
    update_store,
)

User = get_user_model()


def fields_of(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


# --- merchants -------------------------------------------------------------------------------


def test_create_merchant(db):
    merchant = create_merchant("hz-hotels", "杭州酒店", "Asia/Urumqi")
    assert (merchant.slug, merchant.name, merchant.timezone) == (
        "hz-hotels",
        "杭州酒店",
        "Asia/Urumqi",
    )
    assert merchant_by_slug("hz-hotels") == merchant
    entry = AuditEntry.objects.get(merchant=merchant)
    assert (entry.action, entry.object_type, entry.channel) == ("create", "merchant", "cli")
    assert entry.changes["slug"] == [None, "hz-hotels"]


@pytest.mark.parametrize(
    ("slug", "name", "tz", "field"),
    [
        ("has space", "名", "Asia/Shanghai", "slug"),
        ("中文", "名", "Asia/Shanghai", "slug"),
        ("", "名", "Asia/Shanghai", "slug"),
        ("a" * 51, "名", "Asia/Shanghai", "slug"),
        ("ok", "", "Asia/Shanghai", "name"),
        ("ok", "名" * 101, "Asia/Shanghai", "name"),
        ("ok", "名", "Mars/Base", "timezone"),
        ("ok", "名", "", "timezone"),
        ("ok", "名", "../../etc/passwd", "timezone"),
        ("ok", "名", "zone.tab", "timezone"),
    ],
)
def test_create_merchant_rejects_bad_input(db, slug, name, tz, field):
    with pytest.raises(ValidationFailed) as caught:
        create_merchant(slug, name, tz)
    assert field in fields_of(caught.value)
    assert caught.value.code == "validation_error"
    assert not Merchant.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_merchant_lists_every_problem_at_once(db):
    with pytest.raises(ValidationFailed) as caught:
        create_merchant("bad slug", "", "Mars/Base")
    assert [e.field for e in caught.value.errors] == ["slug", "name", "timezone"]
    # Read by the CLI: one line per problem, not the detail repeated above them.
    assert str(caught.value).splitlines() == [
        f"{e.field}: {e.message}" for e in caught.value.errors
    ]


def test_duplicate_merchant_slug_is_a_conflict(merchant):
    with pytest.raises(Conflict) as caught:
        create_merchant("acme", "Another")
    assert caught.value.code == "duplicate_slug"
    assert "acme" in str(caught.value)
    assert Merchant.objects.count() == 1


def test_unknown_merchant_slug_is_not_found(db):
    from patron.core.errors import NotFound

    with pytest.raises(NotFound):
        merchant_by_slug("nope")


# --- stores ----------------------------------------------------------------------------------


def hq_actor(system: Actor, ip: str = "10.0.0.8") -> Actor:
    staff = create_staff(system, "boss", "password123", Role.HQ_ADMIN)
    return Actor(merchant=system.merchant, staff=staff, ip=ip, channel="console")


def test_create_store_is_audited_with_who_when_where_and_how(system):
    actor = hq_actor(system)
    before = timezone.now()
    store = create_store(actor, "S9", "武林店", "杭州市武林路 1 号", "0571-1234567")
    entry = AuditEntry.objects.get(object_type="store", object_id=str(store.pk))
    assert entry.merchant == system.merchant
    assert entry.user == actor.staff.user  # who
    assert entry.at >= before  # when
    assert entry.ip == "10.0.0.8"  # where from
    assert entry.store is None  # HQ acts for no one store
    assert entry.channel == "console"
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.changes == {
        "code": [None, "S9"],
        "name": [None, "武林店"],
        "address": [None, "杭州市武林路 1 号"],
        "phone": [None, "0571-1234567"],
        "is_active": [None, True],
        "refund_approval_above": [None, 50000],  # the default: 500 yuan
    }


def test_store_manager_actions_are_audited_at_their_store(system, stores):
    manager = create_staff(system, "mgr", "password123", Role.STORE_MANAGER, stores["S1"])
    actor = Actor(merchant=system.merchant, staff=manager, ip="192.168.1.2")
    update_store(actor, stores["S1"], phone="0571-7654321")
    entry = AuditEntry.objects.filter(object_type="store", action="update").get()
    assert (entry.user, entry.store, entry.ip) == (manager.user, stores["S1"], "192.168.1.2")


@pytest.mark.parametrize(
    ("code", "name", "extra", "field"),
    [
        ("", "店", {}, "code"),
        ("S 1", "店", {}, "code"),
        ("S" * 33, "店", {}, "code"),
        ("西湖", "店", {}, "code"),  # program files take ASCII codes only: export must re-apply
        ("S1\n", "店", {}, "code"),
        ("S5", "", {}, "name"),
        ("S5", "  ", {}, "name"),
        ("S5", "店" * 101, {}, "name"),
        ("S5", "店", {"address": "址" * 201}, "address"),
        ("S5", "店", {"phone": "1" * 33}, "phone"),
    ],
)
def test_create_store_rejects_bad_input(system, code, name, extra, field):
    with pytest.raises(ValidationFailed) as caught:
        create_store(system, code, name, **extra)
    assert field in fields_of(caught.value)
    assert not Store.objects.exists()
    assert not AuditEntry.objects.filter(object_type="store").exists()


def test_duplicate_store_code_is_a_conflict(system, stores):
    with pytest.raises(Conflict) as caught:
        create_store(system, "S1", "又一个")
    assert caught.value.code == "duplicate_store"
    assert Store.objects.filter(merchant=system.merchant).count() == 2


def test_the_same_store_code_at_another_merchant_is_fine(system, stores):
    other = create_merchant("other", "Other")
    assert create_store(Actor.system(other), "S1", "别家").code == "S1"


def test_update_store_records_old_and_new(system, stores):
    store = update_store(system, stores["S1"], name="西湖旗舰店", address="北山街 2 号")
    store.refresh_from_db()
    assert (store.name, store.address) == ("西湖旗舰店", "北山街 2 号")
    entry = AuditEntry.objects.filter(object_type="store", action="update").get()
    assert entry.changes == {"address": ["", "北山街 2 号"], "name": ["西湖店", "西湖旗舰店"]}


def test_update_store_keeps_the_code_and_ignores_unknown_fields(system, stores):
    update_store(system, stores["S1"], code="S7", merchant_id=999)
    stores["S1"].refresh_from_db()
    assert stores["S1"].code == "S1"
    assert stores["S1"].merchant == system.merchant
    assert not AuditEntry.objects.filter(object_type="store", action="update").exists()


def test_update_store_without_a_change_writes_no_audit(system, stores):
    update_store(system, stores["S1"], name="西湖店")
    assert not AuditEntry.objects.filter(object_type="store").exclude(action="create").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"name": ""}, "name"), ({"address": "址" * 201}, "address"), ({"phone": "1" * 33}, "phone")],
)
def test_update_store_validates_and_leaves_the_store_alone(system, stores, changes, field):
    store = stores["S1"]
    with pytest.raises(ValidationFailed) as caught:
        update_store(system, store, **changes)
    assert fields_of(caught.value) == {field}
    assert (store.name, store.address, store.phone) == ("西湖店", "", "")  # not half-changed
    store.refresh_from_db()
    assert (store.name, store.address, store.phone) == ("西湖店", "", "")
    assert not AuditEntry.objects.filter(object_type="store", action="update").exists()


def test_a_store_with_a_legacy_code_can_still_be_updated(system):
    legacy = Store.objects.create(merchant=system.merchant, code="西湖", name="西湖店")
    update_store(system, legacy, name="西湖老店")
    legacy.refresh_from_db()
    assert legacy.name == "西湖老店"


def test_deactivate_store_keeps_it_and_is_audited_as_delete(system, stores):
    update_store(system, stores["S2"], is_active=False)
    store = Store.objects.get(pk=stores["S2"].pk)
    assert store.is_active is False
    entry = AuditEntry.objects.get(object_type="store", action=AuditEntry.Action.DELETE)
    assert entry.changes == {"is_active": [True, False]}
    with pytest.raises(Exception, match="Unknown store"):
        store_by_code(system.merchant, "S2")
    assert store_by_code(system.merchant, "S2", active_only=False) == store
    update_store(system, store, is_active=True)
    assert AuditEntry.objects.filter(object_type="store", action="update").get().changes == {
        "is_active": [False, True]
    }


# --- staff -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CASHIER, Role.STORE_MANAGER])
def test_store_roles_need_a_store(system, stores, role):
    with pytest.raises(ValidationFailed) as caught:
        create_staff(system, "anna", "password123", role)
    assert "store" in fields_of(caught.value)
    assert not User.objects.filter(username="anna").exists()
    staff = create_staff(system, "anna", "password123", role, stores["S2"])
    assert (staff.role, staff.store, staff.is_store_bound) == (role, stores["S2"], True)


@pytest.mark.parametrize("role", [Role.HQ_ADMIN, Role.MARKETER])
def test_hq_roles_get_no_store(system, stores, role):
    staff = create_staff(system, "ben", "password123", role, stores["S1"])
    assert staff.store is None
    assert staff.is_store_bound is False


def test_create_staff_is_audited_and_can_log_in(system, stores):
    staff = create_staff(system, "cara", "password123", Role.CASHIER, stores["S1"], "收银 Cara")
    assert staff.user.check_password("password123")
    assert staff.user.first_name == "收银 Cara"
    entry = AuditEntry.objects.get(object_type="staff")
    assert entry.changes == {
        "username": [None, "cara"],
        "role": [None, "cashier"],
        "store": [None, "S1"],
    }
    assert "password123" not in str(entry.changes)


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("dan", "password123", "owner", "role"),
        ("dan", "short", Role.HQ_ADMIN, "password"),
        ("", "password123", Role.HQ_ADMIN, "username"),
        ("d" * 151, "password123", Role.HQ_ADMIN, "username"),
    ],
)
def test_create_staff_rejects_bad_input(system, username, password, role, field):
    with pytest.raises(ValidationFailed) as caught:
        create_staff(system, username, password, role)
    assert field in fields_of(caught.value)
    assert not Staff.objects.exists()
    assert not User.objects.exists()


def test_staff_cannot_be_bound_to_another_merchants_store(system, stores):
    other = create_merchant("other", "Other")
    their_store = create_store(Actor.system(other), "S1", "别家")
    with pytest.raises(ValidationFailed) as caught:
        create_staff(system, "eve", "password123", Role.CASHIER, their_store)
    assert "store" in fields_of(caught.value)


def test_duplicate_username_is_a_conflict(system, stores):
    create_staff(system, "fay", "password123", Role.MARKETER)
    with pytest.raises(Conflict) as caught:
        create_staff(system, "fay", "password456", Role.HQ_ADMIN)
    assert caught.value.code == "duplicate_username"
    assert Staff.objects.count() == 1


def test_update_staff_role_rules(system, stores):
    staff = create_staff(system, "gus", "password123", Role.CASHIER, stores["S1"])
    update_staff(system, staff, role=Role.STORE_MANAGER, store=stores["S2"])
    staff.refresh_from_db()
    assert (staff.role, staff.store) == (Role.STORE_MANAGER, stores["S2"])
    update_staff(system, staff, role=Role.HQ_ADMIN, store=stores["S2"])
    staff.refresh_from_db()
    assert (staff.role, staff.store) == (Role.HQ_ADMIN, None)
    with pytest.raises(ValidationFailed) as caught:
        update_staff(system, staff, role=Role.CASHIER)
    assert "store" in fields_of(caught.value)
    staff.refresh_from_db()
    assert staff.role == Role.HQ_ADMIN
    updates = AuditEntry.objects.filter(object_type="staff", action="update").order_by("id")
    assert [e.changes for e in updates] == [
        {"role": ["cashier", "store_manager"], "store_id": [stores["S1"].pk, stores["S2"].pk]},
        {"role": ["store_manager", "hq_admin"], "store_id": [stores["S2"].pk, None]},
    ]


@pytest.mark.parametrize("role", [Role.CASHIER, Role.STORE_MANAGER])
def test_store_bound_staff_can_be_deactivated_without_naming_their_store(system, stores, role):
    staff = create_staff(system, "hal", "password123", role, stores["S1"])
    update_staff(system, staff, is_active=False)
    staff.refresh_from_db()
    assert (staff.is_active, staff.store, staff.role) == (False, stores["S1"], role)
    entry = AuditEntry.objects.get(object_type="staff", action=AuditEntry.Action.DELETE)
    assert entry.changes == {"is_active": [True, False]}


def test_store_bound_staff_password_can_be_reset(system, stores):
    staff = create_staff(system, "ida", "password123", Role.CASHIER, stores["S1"])
    update_staff(system, staff, password="new-password-1")
    staff.refresh_from_db()
    assert staff.user.check_password("new-password-1")
    assert staff.store == stores["S1"]
    entry = AuditEntry.objects.get(object_type="staff", action="update")
    assert entry.changes == {"password": ["***", "***"]}
    with pytest.raises(ValidationFailed):
        update_staff(system, staff, password="short")
    staff.user.refresh_from_db()
    assert staff.user.check_password("new-password-1")


def test_a_cashier_moves_store_when_given_one_and_cannot_be_left_without(system, stores):
    staff = create_staff(system, "jo", "password123", Role.CASHIER, stores["S1"])
    update_staff(system, staff, store=stores["S2"])
    staff.refresh_from_db()
    assert staff.store == stores["S2"]
    with pytest.raises(ValidationFailed) as caught:
        update_staff(system, staff, store=None)
    assert "store" in fields_of(caught.value)


# --- API keys --------------------------------------------------------------------------------


def test_api_keys_are_stored_hashed(system, stores):
    key, plain = create_api_key(system, "POS")
    assert plain.startswith("pk_")
    row = ApiKey.objects.get(pk=key.pk)
    assert row.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain.startswith(f"pk_{row.prefix}_")
    secret = plain.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tenancy_apikey")
        stored_key = " ".join(str(value) for value in cursor.fetchall()[0])
        cursor.execute("SELECT changes FROM tenancy_auditentry")
        stored_audit = " ".join(str(row[0]) for row in cursor.fetchall())
    assert secret not in stored_key and plain not in stored_key
    assert secret not in stored_audit
    assert api_key_from_token(plain) == key
    assert api_key_from_authorization(f"Bearer {plain}") == key
    assert api_key_from_authorization(f"bearer {plain}") == key
    assert api_key_from_authorization(f"Basic {plain}") is None
    assert api_key_from_token(plain + "x") is None
    assert api_key_from_token(plain.replace("pk_", "sk_")) is None
    assert api_key_from_token("pk_" + "a" * 300) is None
    entry = AuditEntry.objects.get(object_type="apikey")
    assert (entry.action, entry.changes) == ("create", {"name": [None, "POS"]})


def test_each_api_key_is_different(system):
    plains = {create_api_key(system, f"k{i}")[1] for i in range(5)}
    assert len(plains) == 5


def test_api_key_name_is_checked(system):
    with pytest.raises(ValidationFailed):
        create_api_key(system, "")
    with pytest.raises(ValidationFailed):
        create_api_key(system, "n" * 101)
    assert not ApiKey.objects.exists()


def test_revoke_api_key(system):
    key, plain = create_api_key(system, "old till")
    revoke_api_key(system, key)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert api_key_from_token(plain) is None
    revoke_api_key(system, key)  # twice is harmless and audited once
    revocations = AuditEntry.objects.filter(object_type="apikey", action="delete")
    assert [e.changes for e in revocations] == [{"revoked": [False, True]}]


# --- scoping ---------------------------------------------------------------------------------


@pytest.fixture
def members_everywhere(system, stores):
    other = create_merchant("other", "Other")
    other_system = Actor.system(other)
    create_store(other_system, "S1", "别家")
    register_member(other_system, {"mobile": "13800138000", "store": "S1"})
    return {
        "S1": register_member(system, {"mobile": "13800138001", "store": "S1"}),
        "S2": register_member(system, {"mobile": "13800138002", "store": "S2"}),
        "none": register_member(system, {"mobile": "13800138003"}),
    }


def test_scoped_limits_store_bound_roles_to_their_store(system, stores, members_everywhere):
    everyone = Member.objects.all()
    assert everyone.count() == 4
    mine = members_everywhere
    hq = Actor(system.merchant, create_staff(system, "hq1", "password123", Role.HQ_ADMIN))
    marketer = Actor(system.merchant, create_staff(system, "mk1", "password123", Role.MARKETER))
    s1_cashier = Actor(
        system.merchant, create_staff(system, "c1", "password123", Role.CASHIER, stores["S1"])
    )
    s2_manager = Actor(
        system.merchant,
        create_staff(system, "m2", "password123", Role.STORE_MANAGER, stores["S2"]),
    )
    chain = {mine["S1"].pk, mine["S2"].pk, mine["none"].pk}
    assert set(scoped(everyone, hq).values_list("pk", flat=True)) == chain
    assert set(scoped(everyone, marketer).values_list("pk", flat=True)) == chain
    assert set(scoped(everyone, system).values_list("pk", flat=True)) == chain
    assert list(scoped(everyone, s1_cashier).values_list("pk", flat=True)) == [mine["S1"].pk]
    assert list(scoped(everyone, s2_manager).values_list("pk", flat=True)) == [mine["S2"].pk]
    # Without a store column only the merchant limit applies.
    assert set(scoped(everyone, s1_cashier, store_field=None).values_list("pk", flat=True)) == (
        chain
    )


def test_audit_entries_are_scoped_too(system, stores, members_everywhere):
    s1_cashier = Actor(
        system.merchant, create_staff(system, "c1", "password123", Role.CASHIER, stores["S1"])
    )
    register_member(s1_cashier, {"mobile": "13900139000"})
    entries = audit_entries(s1_cashier)
    assert entries.exists()
    assert all(e.store_id == stores["S1"].pk for e in entries)
    assert all(e.merchant_id == system.merchant.pk for e in audit_entries(system))


# --- actor -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees", "bound"),
    [
        (Role.HQ_ADMIN, True, False),
        (Role.STORE_MANAGER, True, True),
        (Role.CASHIER, False, True),
        (Role.MARKETER, False, False),
    ],
)
def test_actor_by_role(system, stores, role, sees, bound):
    staff = create_staff(system, "x", "password123", role, stores["S1"])
    actor = Actor(merchant=system.merchant, staff=staff)
    assert actor.sees_personal_data is sees
    assert (actor.store_bound == stores["S1"]) is bound
    assert actor.is_hq_admin is (role == Role.HQ_ADMIN)
    assert actor.user == staff.user
    assert actor.role == role


def test_the_cli_sees_personal_data_and_api_keys_see_it_masked(system):
    key, _ = create_api_key(system)
    api_actor = Actor(merchant=system.merchant, api_key=key, channel="api")
    assert system.sees_personal_data is True
    assert api_actor.sees_personal_data is False  # API.md §3: mobile (masked)
    for actor in (system, api_actor):
        assert actor.store_bound is None
        assert actor.user is None


def test_update_staff_changes_the_full_name_and_audits_it(system, stores):
    from patron.tenancy.services import create_staff, update_staff

    staff = create_staff(system, "li.lei", "password123", "cashier", stores["S1"], "李雷")
    update_staff(system, staff, full_name="李磊")
    staff.user.refresh_from_db()
    assert staff.user.first_name == "李磊"
    entry = AuditEntry.objects.filter(object_type="staff").first()
    assert entry.changes["full_name"] == ["李雷", "李磊"]
