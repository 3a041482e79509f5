"""Stores, staff, API keys and the audit log pages: writes go through services and are audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client

from patron.members.services import update_member
from patron.tenancy.models import ApiKey, AuditEntry, Role, Staff, Store
from patron.tenancy.selectors import api_key_from_token

User = get_user_model()

# --- stores ----------------------------------------------------------------------------------


def test_store_list_shows_every_store_with_counts(hq_client, make_member, stores):
    make_member(store="S1")

    page = hq_client.get("/stores/").content.decode()

    assert "西湖店" in page and "滨江店" in page
    assert hq_client.get("/stores/").context["stores"].get(code="S1").member_count == 1


def test_create_store_is_audited(hq, hq_client, stores):
    response = hq_client.post(
        "/stores/new/", {"code": "S3", "name": "城西店", "address": "文二西路 66 号", "phone": ""}
    )

    assert response.status_code == 302
    store = Store.objects.get(merchant=hq.merchant, code="S3")
    assert store.address == "文二西路 66 号"
    entry = AuditEntry.objects.get(object_type="store", object_id=str(store.pk))
    assert entry.action == "create"
    assert entry.user == hq.staff.user
    assert entry.changes["name"] == [None, "城西店"]


def test_duplicate_and_bad_store_codes_are_field_errors(hq_client, stores):
    duplicate = hq_client.post("/stores/new/", {"code": "S1", "name": "又一家"})
    bad = hq_client.post("/stores/new/", {"code": "S 1!", "name": "又一家"})

    assert duplicate.context["form"].errors["code"] == ["This code is already used."]
    assert bad.context["form"].errors["code"] == ["Use 1 to 32 letters, digits, - or _."]
    assert Store.objects.count() == 2


def test_edit_store_keeps_the_code(hq_client, stores):
    store = stores["S1"]

    response = hq_client.post(
        f"/stores/{store.pk}/edit/",
        {"code": "ZZ", "name": "西湖旗舰店", "address": "", "phone": "0571"},
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.code, store.name, store.phone) == ("S1", "西湖旗舰店", "0571")
    entry = AuditEntry.objects.get(object_type="store", action="update")
    assert entry.changes == {"name": ["西湖店", "西湖旗舰店"], "phone": ["", "0571"]}


def test_deactivate_and_reactivate_store_are_audited(hq_client, stores):
    store = stores["S2"]

    hq_client.post(f"/stores/{store.pk}/deactivate/")
    store.refresh_from_db()
    assert store.is_active is False
    hq_client.post(f"/stores/{store.pk}/activate/")
    store.refresh_from_db()

    assert store.is_active is True
    actions = list(
        AuditEntry.objects.filter(object_type="store", object_id=str(store.pk))
        .order_by("id")
        .values_list("action", "changes")
    )
    assert actions[-2:] == [
        ("delete", {"is_active": [True, False]}),
        ("update", {"is_active": [False, True]}),
    ]


def test_another_merchants_store_is_404(hq_client, stores):
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant, create_store

    other = create_merchant("other", "Other Co")
    foreign = create_store(Actor.system(other), "X1", "别家店")

    assert hq_client.get(f"/stores/{foreign.pk}/edit/").status_code == 404
    assert hq_client.post(f"/stores/{foreign.pk}/deactivate/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active


def test_cashier_cannot_deactivate_a_store(cashier_client, stores):
    assert cashier_client.post(f"/stores/{stores['S1'].pk}/deactivate/").status_code == 403
    assert Store.objects.get(pk=stores["S1"].pk).is_active


# --- staff -----------------------------------------------------------------------------------


def test_create_staff_who_can_then_log_in(hq, hq_client, stores):
    response = hq_client.post(
        "/staff/new/",
        {
            "username": "s2.cashier",
            "full_name": "滨江收银",
            "password": "long-enough-1",
            "role": Role.CASHIER,
            "store": "S2",
        },
    )

    assert response.status_code == 302
    staff = Staff.objects.get(user__username="s2.cashier")
    assert (staff.role, staff.store, staff.user.first_name) == ("cashier", stores["S2"], "滨江收银")
    entry = AuditEntry.objects.get(object_type="staff", object_id=str(staff.pk))
    assert entry.action == "create" and entry.user == hq.staff.user
    assert Client().login(request=HttpRequest(), username="s2.cashier", password="long-enough-1")


def test_create_staff_errors_land_on_their_fields(hq_client, stores):
    no_store = hq_client.post(
        "/staff/new/",
        {"username": "c2", "password": "long-enough-1", "role": Role.CASHIER, "store": ""},
    )
    short = hq_client.post(
        "/staff/new/", {"username": "c3", "password": "short", "role": Role.MARKETER}
    )
    taken = hq_client.post(
        "/staff/new/", {"username": "hq", "password": "long-enough-1", "role": Role.MARKETER}
    )

    assert no_store.context["form"].errors["store"] == ["Store managers and cashiers need a store."]
    assert short.context["form"].errors["password"] == ["At least 8 characters."]
    assert taken.context["form"].errors["username"] == ["This user name is taken."]
    assert not User.objects.filter(username__in=["c2", "c3"]).exists()


def test_edit_and_deactivate_staff_are_audited(hq_client, cashier, stores):
    staff = cashier.staff

    moved = hq_client.post(
        f"/staff/{staff.pk}/edit/", {"role": Role.STORE_MANAGER, "store": "S2", "is_active": "on"}
    )
    staff.refresh_from_db()
    assert moved.status_code == 302
    assert (staff.role, staff.store.code) == ("store_manager", "S2")

    hq_client.post(f"/staff/{staff.pk}/edit/", {"role": Role.STORE_MANAGER, "store": "S2"})
    staff.refresh_from_db()

    assert staff.is_active is False
    entries = AuditEntry.objects.filter(object_type="staff", object_id=str(staff.pk)).order_by("id")
    assert [e.action for e in entries][-2:] == ["update", "delete"]
    assert entries.last().changes == {"is_active": [True, False]}


def test_hq_admin_cannot_lock_themselves_out(hq, hq_client, stores):
    response = hq_client.post(f"/staff/{hq.staff.pk}/edit/", {"role": Role.HQ_ADMIN, "store": ""})
    demoted = hq_client.post(
        f"/staff/{hq.staff.pk}/edit/", {"role": Role.MARKETER, "store": "", "is_active": "on"}
    )

    assert response.status_code == 200
    assert "You cannot deactivate yourself" in response.content.decode()
    assert demoted.status_code == 200
    hq.staff.refresh_from_db()
    assert (hq.staff.role, hq.staff.is_active) == ("hq_admin", True)


def test_reset_password_of_a_store_cashier(hq_client, cashier, stores):
    response = hq_client.post(
        f"/staff/{cashier.staff.pk}/password/",
        {"password": "brand-new-pass", "password_again": "brand-new-pass"},
    )

    assert response.status_code == 302
    assert Client().login(request=HttpRequest(), username="cashier1", password="brand-new-pass")
    entry = AuditEntry.objects.filter(object_type="staff", action="update").last()
    assert entry.changes == {"password": ["***", "***"]}


def test_reset_password_mismatch_and_too_short(hq_client, cashier, stores):
    mismatch = hq_client.post(
        f"/staff/{cashier.staff.pk}/password/",
        {"password": "brand-new-pass", "password_again": "other-pass-99"},
    )
    short = hq_client.post(
        f"/staff/{cashier.staff.pk}/password/", {"password": "abc", "password_again": "abc"}
    )

    assert mismatch.status_code == 422
    assert mismatch.context["password_form"].errors["password_again"] == [
        "The two passwords differ."
    ]
    assert short.context["password_form"].errors["password"] == ["At least 8 characters."]
    assert Client().login(request=HttpRequest(), username="cashier1", password="password123")


# --- API keys --------------------------------------------------------------------------------


def test_create_api_key_shows_the_plain_key_once(hq, hq_client, stores):
    response = hq_client.post("/api-keys/new/", {"name": "POS at S1"})

    plain = response.context["plain"]
    key = ApiKey.objects.get(name="POS at S1")
    assert response.status_code == 200
    assert plain in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert api_key_from_token(plain) == key
    assert plain not in hq_client.get("/api-keys/").content.decode()
    assert f"pk_{key.prefix}_" in hq_client.get("/api-keys/").content.decode()
    entry = AuditEntry.objects.get(object_type="apikey", object_id=str(key.pk))
    assert entry.action == "create" and entry.user == hq.staff.user


def test_api_key_name_is_required(hq_client, stores):
    response = hq_client.post("/api-keys/new/", {"name": ""})

    assert "name" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_revoke_api_key_is_audited_and_stops_the_key(hq_client, stores):
    created = hq_client.post("/api-keys/new/", {"name": "Web shop"})
    key = ApiKey.objects.get(name="Web shop")

    response = hq_client.post(f"/api-keys/{key.pk}/revoke/")

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_from_token(created.context["plain"]) is None
    assert AuditEntry.objects.filter(object_type="apikey", action="delete").count() == 1
    assert "Revoked" in hq_client.get("/api-keys/").content.decode()


# --- audit log -------------------------------------------------------------------------------


def test_audit_log_renders_who_where_and_changes(hq, hq_client, make_member, stores):
    member = make_member(name="张三", store="S1")
    update_member(hq, member, {"name": "张三丰", "store": "S2", "consent_sms": True})

    page = hq_client.get("/audit/", {"object_type": "member", "action": "update"}).content.decode()

    row = page[page.index('id="audit-table"') :]
    assert "hq" in row  # who
    assert "127.0.0.1" in row  # where
    assert 'class="old">张三<' in row and 'class="new">张三丰<' in row
    assert 'class="old">西湖店<' in row and 'class="new">滨江店<' in row  # store ids as names
    assert 'class="old">no<' in row and 'class="new">yes<' in row
    assert "SMS marketing" in row  # the field's label, not its column name
    assert f'href="/members/{member.pk}/"' in row


def test_audit_log_hides_personal_values(hq, hq_client, make_member, stores):
    member = make_member(mobile="13800138001")
    update_member(hq, member, {"mobile": "13900139001"})

    page = hq_client.get("/audit/", {"action": "update"}).content.decode()

    assert "13900139001" not in page and "13800138001" not in page
    assert "***" in page


def test_audit_log_filters(hq_client, make_member, stores):
    make_member()

    stores_only = hq_client.get("/audit/", {"object_type": "store"})
    creates = hq_client.get("/audit/", {"action": "create"})
    future = hq_client.get("/audit/", {"date_from": "2099-01-01"})  # filter days end in 2100

    assert {row.entry.object_type for row in stores_only.context["rows"]} == {"store"}
    assert {row.entry.action for row in creates.context["rows"]} == {"create"}
    assert future.context["rows"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"date_from": "yesterday"},
        {"action": "explode"},
        {"object_type": "x" * 300},
    ],
)
def test_audit_log_survives_bad_parameters(hq_client, stores, params):
    response = hq_client.get("/audit/", params)

    assert response.status_code == 200
    assert response.context["rows"]


def test_store_manager_sees_only_their_stores_entries(hq, manager, manager_client, make_member):
    make_member(actor=manager, name="店里登记")
    make_member(name="总部登记")

    rows = manager_client.get("/audit/").context["rows"]

    assert rows
    assert {row.entry.store_id for row in rows} == {manager.store.pk}


def test_audit_log_shows_api_key_actions(hq, hq_client, stores):
    from patron.members.services import register_member
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_api_key

    key, _plain = create_api_key(hq, "收银机")
    register_member(
        Actor(merchant=hq.merchant, api_key=key, channel="api"), {"mobile": "13800138777"}
    )

    page = hq_client.get("/audit/", {"object_type": "member"}).content.decode()

    assert "API key “收银机”" in page
