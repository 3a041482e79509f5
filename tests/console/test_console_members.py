"""Member pages: list, search, filters, masking, detail (audited), register and edit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.members.models import ConsentRecord, Member
from patron.members.services import define_custom_field, update_member
from patron.tenancy.models import AuditEntry

# --- list, search, filters -------------------------------------------------------------------


def card_numbers(response) -> set[str]:
    return {member.card_no for member, _mobile in response.context["rows"]}


def test_list_shows_members_with_their_store_and_tags(hq_client, make_member, stores):
    member = make_member(name="王小明", store="S1", tags="商务, 亲子")

    response = hq_client.get("/members/")

    assert response.status_code == 200
    page = response.content.decode()
    assert member.card_no in page
    assert "王小明" in page
    assert "西湖店" in page
    assert "商务" in page and "亲子" in page
    assert "1 member" in page


def test_search_by_mobile_name_or_card_number(hq_client, make_member, stores):
    wang = make_member(name="王小明", mobile="13800138001")
    li = make_member(name="李雷", mobile="13900139002")

    assert card_numbers(hq_client.get("/members/", {"q": "13800138001"})) == {wang.card_no}
    assert card_numbers(hq_client.get("/members/", {"q": "9002"})) == {li.card_no}
    assert card_numbers(hq_client.get("/members/", {"q": "李"})) == {li.card_no}
    assert card_numbers(hq_client.get("/members/", {"q": wang.card_no})) == {wang.card_no}
    assert card_numbers(hq_client.get("/members/", {"q": "nobody"})) == set()


def test_filters_narrow_the_list(hq_client, make_member, stores):
    s1_woman = make_member(store="S1", gender="F", tags="高频")
    s2_man = make_member(store="S2", gender="M", source_channel="qr")
    s2_woman = make_member(store="S2", gender="F")

    assert card_numbers(hq_client.get("/members/", {"store": "S1"})) == {s1_woman.card_no}
    assert card_numbers(hq_client.get("/members/", {"gender": "M"})) == {s2_man.card_no}
    assert card_numbers(hq_client.get("/members/", {"tag": "高频"})) == {s1_woman.card_no}
    assert card_numbers(hq_client.get("/members/", {"source_channel": "qr"})) == {s2_man.card_no}
    both = {"store": "S2", "gender": "F"}
    assert card_numbers(hq_client.get("/members/", both)) == {s2_woman.card_no}


def test_status_and_join_date_filters(hq_client, make_member, stores):
    old = make_member()
    new = make_member()
    Member.objects.filter(pk=old.pk).update(
        joined_at=timezone.now() - dt.timedelta(days=40), status="frozen"
    )
    today = timezone.localdate().isoformat()
    long_ago = (timezone.localdate() - dt.timedelta(days=30)).isoformat()

    assert card_numbers(hq_client.get("/members/", {"status": "frozen"})) == {old.card_no}
    assert card_numbers(hq_client.get("/members/", {"joined_from": today})) == {new.card_no}
    assert card_numbers(hq_client.get("/members/", {"joined_to": long_ago})) == {old.card_no}


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999"},
        {"joined_from": "not-a-date"},
        {"joined_to": "2024-13-45"},
        {"store": "NOPE"},
        {"gender": "X"},
        {"q": "x" * 500},
        {"tag": "<script>"},
    ],
)
def test_bad_query_parameters_never_break_the_list(hq_client, make_member, stores, params):
    member = make_member()

    response = hq_client.get("/members/", params)

    assert response.status_code == 200
    if "page" in params:
        assert card_numbers(response) == {member.card_no}


def test_invalid_filter_is_reported_and_ignored(hq_client, make_member, stores):
    member = make_member()

    response = hq_client.get("/members/", {"joined_from": "31/02/2024"})

    assert card_numbers(response) == {member.card_no}
    assert b"Some filters were ignored" in response.content


def test_list_pages_by_fifty(hq, hq_client, stores):
    from patron.members.services import bulk_register

    bulk_register(hq, [{"mobile": f"1380000{n:04d}"} for n in range(120)], channel="import")

    first = hq_client.get("/members/")
    second = hq_client.get("/members/", {"cursor": first.context["page"].next_cursor})
    third = hq_client.get("/members/", {"cursor": second.context["page"].next_cursor})
    back = hq_client.get("/members/", {"cursor": third.context["page"].previous_cursor})

    assert len(first.context["rows"]) == 50
    assert len(third.context["rows"]) == 20
    assert third.context["page"].next_cursor is None
    assert card_numbers(back) == card_numbers(second)
    seen = card_numbers(first) | card_numbers(second) | card_numbers(third)
    assert len(seen) == 120
    assert first.context["count"].value == 120
    assert b"cursor=" in first.content and b"page=" not in first.content


def test_htmx_search_returns_only_the_results(hq_client, make_member, stores):
    member = make_member(name="王小明")

    response = hq_client.get("/members/", {"q": "王"}, headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200
    assert member.card_no in page
    assert 'id="member-table"' in page
    assert "<html" not in page
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(hq_client, make_member, stores):
    make_member()

    response = hq_client.get(
        "/members/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert b"<html" in response.content


def test_search_form_is_wired_for_live_search(hq_client, stores):
    page = hq_client.get("/members/").content.decode()

    assert 'hx-get="/members/"' in page
    assert 'hx-target="#member-results"' in page
    assert "delay:300ms" in page
    assert "/static/patron/vendor/htmx.min.js" in page


# --- masking and store scoping ---------------------------------------------------------------


def test_cashier_and_marketer_see_masked_mobiles_hq_sees_them_whole(
    hq_client, cashier_client, marketer_client, make_member, stores
):
    make_member(mobile="13800138123", store="S1")

    assert "13800138123" in hq_client.get("/members/").content.decode()
    for client in (cashier_client, marketer_client):
        page = client.get("/members/").content.decode()
        assert "138****8123" in page
        assert "13800138123" not in page


def test_masked_role_detail_and_edit_pages_never_show_the_mobile(
    cashier_client, make_member, stores
):
    member = make_member(mobile="13800138123", store="S1", id_number="11010519491231002X")

    detail = cashier_client.get(f"/members/{member.pk}/").content.decode()
    edit = cashier_client.get(f"/members/{member.pk}/edit/").content.decode()

    for page in (detail, edit):
        assert "138****8123" in page
        assert "13800138123" not in page
        assert "11010519491231002X" not in page
    assert 'name="mobile"' not in edit


def test_store_bound_cashier_sees_only_their_store(cashier_client, make_member, stores):
    own = make_member(store="S1")
    other = make_member(store="S2")

    listed = card_numbers(cashier_client.get("/members/"))

    assert listed == {own.card_no}
    assert cashier_client.get(f"/members/{other.pk}/").status_code == 404
    assert cashier_client.get(f"/members/{other.pk}/edit/").status_code == 404
    assert cashier_client.post(f"/members/{other.pk}/edit/", {"name": "x"}).status_code == 404
    assert cashier_client.get(f"/members/{own.pk}/").status_code == 200


def test_store_filter_in_the_url_cannot_widen_a_cashiers_view(cashier_client, make_member, stores):
    make_member(store="S2")

    assert card_numbers(cashier_client.get("/members/", {"store": "S2"})) == set()


def test_unknown_member_is_404(hq_client, stores):
    assert hq_client.get("/members/999999/").status_code == 404


def test_other_merchants_member_is_404(hq_client, stores):
    from patron.members.services import register_member
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant

    other = create_merchant("other", "Other Co")
    stranger = register_member(Actor.system(other), {"mobile": "13800138555"})

    assert hq_client.get(f"/members/{stranger.pk}/").status_code == 404


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_profile_tags_consent_custom_fields_and_history(
    hq, hq_client, make_member, stores
):
    define_custom_field(hq, "size", "衣服尺码", "choice", ["S", "M", "L"])
    member = make_member(
        name="王小明",
        mobile="13800138123",
        store="S1",
        tags="商务",
        consent_sms=True,
        occupation="教师",
        custom={"size": "M"},
    )
    update_member(hq, member, {"consent_sms": False, "name": "王大明"})

    page = hq_client.get(f"/members/{member.pk}/").content.decode()

    assert "王大明" in page
    assert "13800138123" in page
    assert "教师" in page
    assert "商务" in page
    assert "衣服尺码" in page and ">M<" in page
    assert page.count("Not granted") >= 1
    # Registration records all three topics, the update the SMS withdrawal.
    records = ConsentRecord.objects.filter(member=member)
    assert records.count() == 4
    history = page[page.index('id="consent-history"') :]
    assert history.count("<li>") == 4
    assert 'id="member-history"' in page
    assert "王小明" in page and "王大明" in page  # the name change, old → new


def test_detail_of_an_imported_member_without_recruiter_or_consent_history(
    system, hq_client, stores
):
    from patron.members.services import bulk_register

    (member,) = bulk_register(system, [{"mobile": "13800138321"}], channel="import")

    response = hq_client.get(f"/members/{member.pk}/")

    assert response.status_code == 200
    assert "No consent recorded." in response.content.decode()


def test_viewing_a_member_as_hq_is_audited(hq, hq_client, make_member, stores):
    member = make_member()

    hq_client.get(f"/members/{member.pk}/")

    view = AuditEntry.objects.get(action=AuditEntry.Action.VIEW, object_id=str(member.pk))
    assert view.user == hq.staff.user
    assert view.object_type == "member"
    assert view.channel == "console"


def test_opening_the_edit_form_as_hq_is_audited(hq_client, make_member, stores):
    member = make_member()

    hq_client.get(f"/members/{member.pk}/edit/")

    assert AuditEntry.objects.filter(action="view", object_id=str(member.pk)).count() == 1


def test_masked_views_are_not_audited_as_personal_data(cashier_client, make_member, stores):
    member = make_member(store="S1")

    cashier_client.get(f"/members/{member.pk}/")

    assert not AuditEntry.objects.filter(action="view").exists()


def test_history_is_hidden_from_roles_without_audit_access(cashier_client, make_member, stores):
    member = make_member(store="S1")

    page = cashier_client.get(f"/members/{member.pk}/").content.decode()

    assert 'id="member-history"' not in page


# --- register --------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "mobile": "13800138000",
        "name": "张三",
        "gender": "M",
        "birthday": "1990-05-01",
        "lunar_birthday": "",
        "email": "",
        "store": "S1",
        "source_channel": "console",
        "referrer_code": "",
        "tags": "商务, 亲子",
        "id_number": "",
        "region": "杭州",
        "occupation": "",
        "income_band": "middle",
        "address": "",
        "consent_sms": "on",
    }
    data.update(overrides)
    return data


def test_register_a_member(hq, hq_client, stores):
    response = hq_client.post("/members/new/", form_data())

    member = Member.objects.get(mobile="13800138000")
    assert response.status_code == 302
    assert response["Location"] == f"/members/{member.pk}/"
    assert member.name == "张三"
    assert member.gender == "M"
    assert member.birthday == dt.date(1990, 5, 1)
    assert member.store == stores["S1"]
    assert member.income_band == "middle"
    assert member.consent_sms is True and member.consent_email is False
    assert sorted(member.tags.values_list("name", flat=True)) == ["亲子", "商务"]
    assert member.recruited_by == hq.staff.user
    assert AuditEntry.objects.filter(action="create", object_id=str(member.pk)).exists()
    follow = hq_client.get(response["Location"])
    assert "registered" in follow.content.decode()


def test_bad_mobile_shows_an_error_next_to_the_mobile_input(hq_client, stores):
    response = hq_client.post("/members/new/", form_data(mobile="12345"))

    assert response.status_code == 200
    assert not Member.objects.exists()
    form = response.context["form"]
    assert form.errors["mobile"] == [
        "Enter a valid mainland China mobile number (11 digits, starting with 1)."
    ]
    page = response.content.decode()
    mobile_block = page[page.index('id="field-mobile"') :]
    assert mobile_block.index("field-error") < mobile_block.index('id="field-name"')
    assert 'value="张三"' in page  # what was typed is kept


def test_duplicate_mobile_is_a_field_error(hq_client, make_member, stores):
    make_member(mobile="13800138000")

    response = hq_client.post("/members/new/", form_data())

    assert response.context["form"].errors["mobile"] == [
        "A member with this mobile already exists."
    ]
    assert Member.objects.count() == 1


def test_custom_fields_render_and_bad_choice_is_a_field_error(hq, hq_client, stores):
    define_custom_field(hq, "size", "衣服尺码", "choice", ["S", "M", "L"])
    define_custom_field(hq, "visits", "到店次数", "number")
    define_custom_field(hq, "anniversary", "纪念日", "date")
    define_custom_field(hq, "colour", "喜欢的颜色", "text", required=True)

    page = hq_client.get("/members/new/").content.decode()
    response = hq_client.post(
        "/members/new/",
        form_data(custom_size="XXL", custom_visits="lots", custom_colour=""),
    )

    assert 'name="custom_size"' in page and '<option value="M">M</option>' in page
    assert 'name="custom_visits"' in page and 'type="number"' in page
    assert 'name="custom_anniversary"' in page and 'type="date"' in page
    errors = response.context["form"].errors
    assert errors["custom_size"] == ["Choose one of: S, M, L"]
    assert errors["custom_visits"] == ["Enter a number."]
    assert errors["custom_colour"] == ["This field is required."]
    assert not Member.objects.exists()


def test_custom_field_values_are_saved(hq, hq_client, stores):
    define_custom_field(hq, "size", "衣服尺码", "choice", ["S", "M", "L"])
    define_custom_field(hq, "visits", "到店次数", "number")

    hq_client.post("/members/new/", form_data(custom_size="L", custom_visits="3"))

    assert Member.objects.get().custom == {"size": "L", "visits": 3}


def test_several_bad_fields_are_all_reported(hq_client, stores):
    response = hq_client.post(
        "/members/new/",
        form_data(birthday="2999-01-01", email="not-an-email", lunar_birthday="13-40"),
    )

    errors = response.context["form"].errors
    assert set(errors) >= {"birthday", "email", "lunar_birthday"}


def test_unknown_referral_code_is_a_field_error(hq_client, stores):
    response = hq_client.post("/members/new/", form_data(referrer_code="NOPE1234"))

    assert response.context["form"].errors["referrer_code"] == ["Unknown referral code."]


def test_cashier_registers_at_their_own_store_only(cashier, cashier_client, stores):
    page = cashier_client.get("/members/new/").content.decode()
    refused = cashier_client.post("/members/new/", form_data(store="S2"))
    accepted = cashier_client.post("/members/new/", form_data(store="S1"))

    assert '<option value="S2"' not in page
    assert refused.context["form"].errors["store"] == [
        "You can only register members at your own store."
    ]
    assert accepted.status_code == 302
    member = Member.objects.get()
    assert member.store == stores["S1"]


def test_store_select_offers_active_stores_to_hq(hq, hq_client, stores):
    from patron.tenancy.services import update_store

    update_store(hq, stores["S2"], is_active=False)

    page = hq_client.get("/members/new/").content.decode()

    assert '<option value="S1"' in page
    assert '<option value="S2"' not in page


# --- edit ------------------------------------------------------------------------------------


def test_edit_changes_only_what_was_changed(hq, hq_client, make_member, stores):
    member = make_member(name="张三", store="S1", tags="商务", consent_sms=True)
    page = hq_client.get(f"/members/{member.pk}/edit/")
    data = {k: v for k, v in page.context["form"].initial.items() if v not in (None, False)}
    data.update(name="张三丰", tags="商务, 高频", consent_sms="on")

    response = hq_client.post(f"/members/{member.pk}/edit/", data)

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "张三丰"
    assert sorted(member.tags.values_list("name", flat=True)) == ["商务", "高频"]
    update = AuditEntry.objects.get(action="update", object_id=str(member.pk))
    assert set(update.changes) == {"name", "tags"}


def test_edit_with_a_duplicate_mobile_is_a_field_error(hq_client, make_member, stores):
    make_member(mobile="13800138000")
    member = make_member(mobile="13900139000")

    response = hq_client.post(f"/members/{member.pk}/edit/", {"mobile": "13800138000"})

    assert response.context["form"].errors["mobile"] == [
        "A member with this mobile already exists."
    ]
    member.refresh_from_db()
    assert member.mobile == "13900139000"


def test_masked_role_edit_leaves_the_mobile_alone(cashier_client, make_member, stores):
    member = make_member(mobile="13800138123", store="S1", name="旧名")

    response = cashier_client.post(
        f"/members/{member.pk}/edit/",
        {"mobile": "13900139999", "name": "新名", "store": "S1", "gender": "U"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.mobile == "13800138123"
    assert member.name == "新名"
