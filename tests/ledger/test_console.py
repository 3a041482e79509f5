"""Console pages of the ledger: balances, point adjustments, top-ups, liabilities."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.test import Client
from django.utils import timezone

from patron.core.forms import parse_yuan
from patron.ledger import selectors, services
from patron.ledger.models import Asset, Entry, LedgerPolicy, PointsHold, Transaction
from patron.ledger.selectors import points_value
from patron.members.models import Member, MemberStatus
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from tests.conftest import staff_actor
from tests.ledger.conftest import set_points_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


def ledger_counts() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def balance(member: Member, asset: str) -> int:
    part = "principal" if asset == Asset.PRINCIPAL else "bonus"
    return selectors.member_balances(member)["stored_value"][part]


def points_of(member: Member) -> int:
    return selectors.member_balances(member)["points"]["available"]


@pytest.fixture
def manager(system, stores) -> Actor:
    return staff_actor(system, "m1", Role.STORE_MANAGER, stores["S1"])


@pytest.fixture
def s2_member(system, stores, policy) -> Member:
    return register_member(system, {"mobile": "13800138001", "store": "S2", "name": "李雷"})


@pytest.fixture
def hq_client(hq) -> Client:
    return logged_in(hq)


@pytest.fixture
def cashier_client(cashier) -> Client:
    return logged_in(cashier)


# --- money input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("100", 10000),
        ("99.5", 9950),
        ("99.50", 9950),
        ("0.01", 1),
        ("1,234.56", 123456),
        ("¥ 88", 8800),
        ("￥1，000", 100000),  # full-width yuan sign and comma
        ("１００", 10000),  # full-width digits from a Chinese input method
        ("10.500", 1050),  # trailing zeros change nothing
        ("123456789012.99", 12345678901299),
    ],
)
def test_yuan_is_converted_to_fen_exactly(typed, fen):
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize(
    "typed",
    ["", "abc", "10.005", "-5", "+5", "1e3", ".5", "1.2.3", "NaN", "Infinity", "10,5", "1,23"],
)
def test_what_is_not_a_yuan_amount_is_refused(typed):
    # "10,5" may be meant as a decimal comma: refused rather than read as 105 yuan.
    with pytest.raises(forms.ValidationError):
        parse_yuan(typed)


def test_points_are_valued_half_up_at_the_redeem_rate():
    assert points_value(250, {"points": 100, "value": 100}) == 250
    assert points_value(5, {"points": 2, "value": 1}) == 3  # 2.5 fen -> 3
    assert points_value(7, {"points": 3, "value": 1}) == 2  # 2.33 fen -> 2
    assert points_value(0, {"points": 100, "value": 100}) == 0


# --- member balances page --------------------------------------------------------------------


def test_balances_page_shows_figures_lots_and_history(hq, hq_client, member, stores):
    services.top_up(
        hq,
        member,
        10000,
        key="t1",
        payment_method="wechat",
        context=services.Context(store=stores["S1"]),
    )  # + 10 yuan bonus
    earned_at = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 07:30 on 2 March in Shanghai
    services.earn_points(
        hq, member, 120, key="e1", context=services.Context(occurred_at=earned_at, reason="sale 7")
    )

    response = hq_client.get(f"/ledger/members/{member.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="stored_value">¥110.00<' in page
    assert 'data-figure="principal">¥100.00<' in page
    assert 'data-figure="bonus">¥10.00<' in page
    assert 'data-figure="points">120<' in page
    # The lot, in the merchant's time zone: earned 2 March, expires as 2028 begins in Shanghai.
    lot_rows = response.context["lots"]
    assert [(row.lot.amount, row.lot.remaining, row.status) for row in lot_rows] == [
        (120, 120, "active")
    ]
    assert "2026-03-02 07:30" in page
    assert "2028-01-01 00:00" in page
    # History: newest first, with kind, asset, signed amount, store, who and reason.
    rows = response.context["rows"]
    assert [(row.kind, row.entry.asset, row.entry.amount) for row in rows] == [
        ("Top-up", Asset.BONUS, 1000),
        ("Top-up", Asset.PRINCIPAL, 10000),
        ("Points earned", Asset.POINTS, 120),
    ]
    assert "+¥100.00" in page and "+¥10.00" in page and "+120" in page
    assert rows[0].store == "西湖店" and rows[0].who == "hq"
    # The reason in words, and what the words leave out (how it was paid, a typed note).
    assert (rows[0].reason, rows[0].note) == ("Top-up", "Paid by WeChat Pay")
    assert rows[-1].note == "sale 7" and rows[-1].store == ""


def test_balances_page_in_chinese(hq, member):
    services.top_up(hq, member, 123450, key="t1")

    page = logged_in(hq, "zh-hans").get(f"/ledger/members/{member.pk}/").content.decode()

    assert "储值" in page and "积分" in page
    assert "¥1,234.50" in page


def test_expired_lots_show_as_expired_and_leave_the_available_points(hq, hq_client, member):
    long_ago = timezone.now() - dt.timedelta(days=3 * 365)
    services.earn_points(hq, member, 40, key="old", context=services.Context(occurred_at=long_ago))
    services.earn_points(hq, member, 15, key="new")

    response = hq_client.get(f"/ledger/members/{member.pk}/")

    statuses = {row.lot.amount: row.status for row in response.context["lots"]}
    assert statuses == {40: "expired", 15: "active"}
    assert response.context["balances"]["points"]["available"] == 15


def test_used_lots_only_when_asked(hq, hq_client, member):
    services.earn_points(hq, member, 30, key="e1")
    services.spend_points(hq, member, 30, key="s1")

    assert hq_client.get(f"/ledger/members/{member.pk}/").context["lots"] == []
    everything = hq_client.get(f"/ledger/members/{member.pk}/", {"lots": "all"}).context["lots"]
    assert [(row.lot.remaining, row.status) for row in everything] == [(0, "used")]


def test_pending_points_and_expiring_soon_are_shown(hq, hq_client, member, merchant):
    set_points_policy(merchant, pending_days=7)
    services.earn_points(hq, member, 50, key="held", context=services.Context(reason="sale 9"))
    set_points_policy(merchant, expiry={"policy": "rolling_days", "days": 10})
    services.earn_points(hq, member, 25, key="soon", pending_days=0)

    response = hq_client.get(f"/ledger/members/{member.pk}/")

    page = response.content.decode()
    assert 'data-figure="pending">50<' in page
    assert 'data-figure="expiring">25<' in page
    assert [hold.points for hold in response.context["holds"]] == [50]
    assert "sale 9" in page
    assert PointsHold.objects.get().status == PointsHold.Status.PENDING


def test_shortfalls_are_shown_clearly(hq, hq_client, member):
    earn = services.earn_points(hq, member, 100, key="e")
    services.spend_points(hq, member, 70, key="s")
    reversal = services.reverse(hq, earn, key="r", reason="refund of sale 12")

    response = hq_client.get(f"/ledger/members/{member.pk}/")

    page = response.content.decode()
    assert 'id="ledger-shortfalls"' in page
    assert "already used them" in page
    shortfall = response.context["shortfalls"].get()
    assert (shortfall.asset, shortfall.amount, shortfall.transaction_id) == (
        Asset.POINTS,
        70,
        reversal.pk,
    )
    assert f"of #{earn.pk}" in page and "refund of sale 12" in page


def test_no_shortfall_card_without_shortfalls(hq_client, member):
    page = hq_client.get(f"/ledger/members/{member.pk}/").content.decode()
    assert 'id="ledger-shortfalls"' not in page


def test_history_filters_by_asset_kind_and_dates(hq, hq_client, member):
    day = dt.datetime(2026, 5, 10, 12, 0, tzinfo=SHANGHAI)
    services.top_up(hq, member, 5000, key="t", context=services.Context(occurred_at=day))
    for n in range(3):
        services.earn_points(
            hq,
            member,
            10 + n,
            key=f"e{n}",
            context=services.Context(occurred_at=day + dt.timedelta(days=n)),
        )
    url = f"/ledger/members/{member.pk}/"

    def amounts(**params) -> list[int]:
        return [row.entry.amount for row in hq_client.get(url, params).context["rows"]]

    assert amounts(asset="points") == [12, 11, 10]
    assert amounts(asset="stored_value") == [5000]
    assert amounts(kind="topup") == [5000]
    assert amounts(date_from="2026-05-11") == [12, 11]
    assert amounts(date_from="2026-05-11", date_to="2026-05-11") == [11]
    assert sorted(amounts(date_to="2026-05-10")) == [10, 5000]
    # Bad filters are reported and ignored, never an error page.
    response = hq_client.get(url, {"asset": "gold", "date_from": "31/02/2026", "page": "x"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 4
    assert b"Some filters were ignored" in response.content


def test_history_days_at_the_calendars_ends_are_ignored_filters(hq, hq_client, member):
    """Issue 13: the history compares with the end of `date_to` (the next day's start), which
    9999-12-31 has not; days outside 1900-2100 are reported and ignored like any bad filter."""
    services.top_up(hq, member, 5000, key="t")
    url = f"/ledger/members/{member.pk}/"

    response = hq_client.get(url, {"date_from": "0001-01-01", "date_to": "9999-12-31"})

    assert response.status_code == 200
    assert [row.entry.amount for row in response.context["rows"]] == [5000]
    assert response.context["filters"].errors["date_to"] == [
        "Enter a date between 1900-01-01 and 2100-12-31."
    ]
    assert b"Some filters were ignored" in response.content


def test_history_pages_by_fifty(hq, hq_client, member):
    for n in range(55):
        services.earn_points(hq, member, 1, key=f"e{n}")
    url = f"/ledger/members/{member.pk}/"

    first = hq_client.get(url)
    second = hq_client.get(url, {"cursor": first.context["page"].next_cursor})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert b'rel="next"' in first.content and b'rel="next"' not in second.content
    assert b"55 movements" in first.content


def test_htmx_history_request_returns_only_the_table(hq, hq_client, member):
    services.earn_points(hq, member, 5, key="e")

    response = hq_client.get(
        f"/ledger/members/{member.pk}/", {"asset": "points"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="ledger-entries"' in response.content


def test_who_is_a_user_an_api_key_or_the_system(hq, hq_client, member, merchant):
    from patron.tenancy.services import create_api_key

    key, _plain = create_api_key(Actor.system(merchant), "POS bridge")
    services.earn_points(Actor(merchant=merchant, api_key=key, channel="api"), member, 1, key="a")
    services.earn_points(Actor.system(merchant), member, 2, key="s")
    services.earn_points(hq, member, 3, key="u")

    rows = hq_client.get(f"/ledger/members/{member.pk}/").context["rows"]

    assert {row.entry.amount: row.who for row in rows} == {
        1: "API key POS bridge",
        2: "System",
        3: "hq",
    }


def test_cashier_of_one_store_gets_404_for_another_stores_member(cashier_client, member, s2_member):
    assert cashier_client.get(f"/ledger/members/{member.pk}/").status_code == 200
    assert cashier_client.get(f"/ledger/members/{s2_member.pk}/").status_code == 404
    assert cashier_client.get("/ledger/members/999999/").status_code == 404


def test_other_merchants_member_is_not_found(hq_client, db):
    from patron.tenancy.services import create_merchant, create_store

    other = create_merchant("other", "Other Co")
    create_store(Actor.system(other), "S1", "别家店")
    stranger = register_member(Actor.system(other), {"mobile": "13800138002"})

    assert hq_client.get(f"/ledger/members/{stranger.pk}/").status_code == 404


def test_login_is_required(client, member):
    response = client.get(f"/ledger/members/{member.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_member_detail_page_links_to_the_balances(hq, hq_client, member):
    services.top_up(hq, member, 50000, key="t")  # + 60 bonus
    services.earn_points(hq, member, 321, key="e")

    page = hq_client.get(f"/members/{member.pk}/").content.decode()

    assert 'id="member-value"' in page
    assert 'data-figure="stored_value">¥560.00<' in page
    assert 'data-figure="principal">¥500.00<' in page
    assert 'data-figure="bonus">¥60.00<' in page
    assert 'data-figure="points">321<' in page
    assert f'href="/ledger/members/{member.pk}/"' in page


# --- point adjustments -----------------------------------------------------------------------


def adjust(client: Client, member: Member, **data) -> object:
    data.setdefault("token", str(uuid.uuid4()))
    return client.post(f"/ledger/members/{member.pk}/adjust/", data, follow=True)


def test_adjustment_writes_one_transaction_and_an_audit_entry(hq, hq_client, member):
    before = ledger_counts()

    response = adjust(hq_client, member, points="200", reason="goodwill for a late room")

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/ledger/members/{member.pk}/"
    assert b"+200 points recorded" in response.content
    txn = Transaction.objects.get(kind=Transaction.Kind.ADJUST)
    assert (txn.reason, txn.user, txn.member_id) == (
        "goodwill for a late room",
        hq.staff.user,
        member.pk,
    )
    assert txn.idempotency_key.startswith("console-adjust:")
    assert ledger_counts() == (before[0] + 1, before[1] + 2)
    assert points_of(member) == 200
    audit = AuditEntry.objects.filter(object_type="transaction", object_id=str(txn.pk)).get()
    assert audit.changes["points"] == [None, 200]
    assert audit.changes["reason"] == [None, "goodwill for a late room"]


def test_the_same_token_twice_applies_once(hq_client, member):
    token = str(uuid.uuid4())

    adjust(hq_client, member, points="50", reason="double click", token=token)
    again = adjust(hq_client, member, points="50", reason="double click", token=token)

    assert Transaction.objects.filter(kind=Transaction.Kind.ADJUST).count() == 1
    assert points_of(member) == 50
    assert b"already recorded" in again.content


def test_negative_adjustment_takes_points_away(hq, hq_client, member):
    services.earn_points(hq, member, 100, key="e")

    adjust(hq_client, member, points="-30", reason="wrong sale")

    assert points_of(member) == 70


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"points": "10", "reason": ""}, "reason", "A reason is required."),
        ({"points": "10", "reason": "   "}, "reason", "A reason is required."),
        ({"points": "", "reason": "x"}, "points", "This field is required."),
        ({"points": "0", "reason": "x"}, "points", "Zero changes nothing"),
        ({"points": "1.5", "reason": "x"}, "points", "Enter a whole number."),
        ({"points": "abc", "reason": "x"}, "points", "Enter a whole number."),
        ({"points": "-500", "reason": "x"}, "points", "Not enough points"),
        ({"points": "99999999999", "reason": "x"}, "points", "at most"),
        ({"points": "5", "reason": "x" * 201}, "reason", "at most 200 characters"),
    ],
)
def test_bad_adjustments_are_form_errors_and_write_nothing(
    hq, hq_client, member, data, field, message
):
    services.earn_points(hq, member, 100, key="e")
    before = ledger_counts()

    response = adjust(hq_client, member, **data)

    assert response.status_code == 200
    form = response.context["adjust_form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert ledger_counts() == before
    assert points_of(member) == 100


def test_a_missing_or_forged_token_is_refused(hq_client, member):
    for token in ("", "not-a-uuid", "1" * 300):
        response = adjust(hq_client, member, points="5", reason="x", token=token)
        assert b"This form has expired" in response.content
    assert not Transaction.objects.exists()


def test_form_after_an_error_keeps_its_token(hq_client, member):
    token = str(uuid.uuid4())

    response = adjust(hq_client, member, points="5", reason="", token=token)

    assert f'name="token" value="{token}"'.encode() in response.content


def test_cashier_and_marketer_cannot_adjust(cashier, marketer, member):
    for actor in (cashier, marketer):
        client = logged_in(actor)
        page = client.get(f"/ledger/members/{member.pk}/").content.decode()
        assert 'id="ledger-adjust"' not in page
        assert "/adjust/" not in page
        response = client.post(
            f"/ledger/members/{member.pk}/adjust/",
            {"points": "100", "reason": "x", "token": str(uuid.uuid4())},
        )
        assert response.status_code == 403
    assert not Transaction.objects.exists()


def test_store_manager_adjusts_their_own_stores_members_only(manager, member, s2_member):
    client = logged_in(manager)
    assert b'id="ledger-adjust"' in client.get(f"/ledger/members/{member.pk}/").content

    adjust(client, member, points="20", reason="birthday")
    other = client.post(
        f"/ledger/members/{s2_member.pk}/adjust/",
        {"points": "20", "reason": "x", "token": str(uuid.uuid4())},
    )

    assert other.status_code == 404
    txn = Transaction.objects.get()
    assert (txn.member_id, txn.store.code) == (member.pk, "S1")


def test_adjust_refuses_get(hq_client, member):
    assert hq_client.get(f"/ledger/members/{member.pk}/adjust/").status_code == 405


# --- top-up ----------------------------------------------------------------------------------


def top_up_post(client: Client, **data):
    return client.post("/ledger/topup/", data)


def preview_data(who: Member, /, **overrides) -> dict[str, str]:
    data = {"member": who.mobile, "amount": "500", "payment_method": "cash", "store": "S1"}
    data.update(overrides)
    return data


def test_preview_shows_the_bonus_of_the_table_row_and_writes_nothing(hq, hq_client, member):
    services.top_up(hq, member, 2000, key="earlier")  # 20 yuan, below the first bonus row
    before = ledger_counts()

    response = top_up_post(hq_client, **preview_data(member, amount="500", step="preview"))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.amount, preview.bonus) == (50000, 6000)  # the "500 get 60" row
    assert preview.after_total == 2000 + 50000 + 6000
    page = response.content.decode()
    assert 'data-figure="bonus">+¥60.00<' in page
    assert 'data-figure="after">¥580.00<' in page
    assert "top up ¥500.00, get ¥60.00" in page
    assert 'name="token" value="' in page
    assert ledger_counts() == before


@pytest.mark.parametrize(
    ("amount", "bonus", "tip"),
    [
        ("99.99", 0, "¥100.00"),
        ("100", 1000, "¥500.00"),
        ("499.99", 1000, "¥500.00"),
        ("800", 6000, None),
    ],
)
def test_preview_picks_the_highest_matching_row(hq_client, member, amount, bonus, tip):
    response = top_up_post(hq_client, **preview_data(member, amount=amount))

    preview = response.context["preview"]
    assert preview.bonus == bonus
    if tip:
        assert preview.next_row is not None and f"a top-up of {tip}" in response.content.decode()
    else:
        assert preview.next_row is None


def confirm(client: Client, who: Member, token: str, /, **overrides):
    data = preview_data(who, step="confirm", token=token)
    data.update(overrides)
    return client.post("/ledger/topup/", data)


def test_confirm_credits_principal_and_bonus_once_even_if_posted_twice(hq_client, member):
    token = str(uuid.uuid4())

    first = confirm(hq_client, member, token)
    second = confirm(hq_client, member, token)

    txn = Transaction.objects.get(kind=Transaction.Kind.TOPUP)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/ledger/topup/{txn.pk}/"
    assert txn.idempotency_key == f"console-topup:{token}"
    assert (txn.store.code, txn.reason) == ("S1", "cash")
    assert balance(member, Asset.PRINCIPAL) == 50000
    assert balance(member, Asset.BONUS) == 6000
    assert Entry.objects.filter(transaction=txn).count() == 4


def test_result_page_shows_what_was_credited_and_a_receipt(hq, hq_client, member):
    services.top_up(hq, member, 1000, key="earlier")
    response = confirm(hq_client, member, str(uuid.uuid4()), amount="100", payment_method="alipay")

    result = hq_client.get(response["Location"])

    assert result.status_code == 200
    page = result.content.decode()
    assert 'data-figure="principal">¥100.00<' in page
    assert 'data-figure="bonus">¥10.00<' in page
    assert 'data-figure="balance">¥120.00<' in page
    assert 'id="receipt"' in page and "data-print" in page  # the print button (console.js)
    assert "Alipay" in page and member.card_no in page
    # The slip goes home with the member: the mobile is masked even for HQ.
    assert "138****8000" in page and member.mobile not in page
    # A later movement does not change the receipt: it shows the balance right after.
    services.top_up(hq, member, 500, key="later")
    assert 'data-figure="balance">¥120.00<' in hq_client.get(response["Location"]).content.decode()


def test_whole_flow_without_javascript(hq_client, member):
    entry = hq_client.get("/ledger/topup/", {"member": member.card_no})
    assert entry.status_code == 200
    assert f'value="{member.card_no}"'.encode() in entry.content

    preview = top_up_post(hq_client, **preview_data(member, member=member.card_no, amount="100"))
    token = preview.context["token"]
    change = top_up_post(hq_client, **preview_data(member, amount="100", step="edit"))
    assert b'id="topup-form"' in change.content and b'value="100"' in change.content

    done = confirm(hq_client, member, token, member=member.card_no, amount="100.00")
    assert done.status_code == 302
    assert balance(member, Asset.PRINCIPAL) == 10000


def test_htmx_preview_returns_only_the_panel(hq_client, member):
    response = hq_client.post(
        "/ledger/topup/", preview_data(member), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="topup-preview"' in response.content


def test_htmx_confirm_redirects_the_whole_page(hq_client, member):
    response = hq_client.post(
        "/ledger/topup/",
        preview_data(member, step="confirm", token=str(uuid.uuid4())),
        headers={"HX-Request": "true"},
    )

    txn = Transaction.objects.get()
    assert response["HX-Redirect"] == f"/ledger/topup/{txn.pk}/"


@pytest.fixture
def frozen_member(system, stores, policy) -> Member:
    member = register_member(system, {"mobile": "13800138003", "store": "S1"})
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.FROZEN)
    return member


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "0"}, "amount", "greater than zero"),
        ({"amount": "-5"}, "amount", "Enter an amount in yuan"),
        ({"amount": "10.005"}, "amount", "At most two decimals"),
        ({"amount": "ten"}, "amount", "Enter an amount in yuan"),
        ({"amount": ""}, "amount", "This field is required."),
        ({"amount": "1000.01"}, "amount", "At most ¥1,000.00 in one top-up."),
        ({"member": "13900000000"}, "member", "No member with this mobile or card number."),
        ({"member": ""}, "member", "This field is required."),
        ({"member": "frozen"}, "member", "frozen or closed"),
        ({"payment_method": "bitcoin"}, "payment_method", "Select a valid choice."),
        ({"store": ""}, "store", "This field is required."),
        ({"store": "NOPE"}, "store", "Select a valid choice."),
    ],
)
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_bad_top_up_input_is_a_form_error_and_writes_nothing(
    hq_client, member, frozen_member, merchant, overrides, field, message, step
):
    LedgerPolicy.objects.filter(merchant=merchant).update(max_topup=100000)
    if overrides.get("member") == "frozen":
        overrides = {**overrides, "member": frozen_member.mobile}
    before = ledger_counts()

    response = top_up_post(
        hq_client, **preview_data(member, step=step, token=str(uuid.uuid4()), **overrides)
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert "preview" not in response.context
    assert ledger_counts() == before


def test_confirm_without_a_valid_token_writes_nothing(hq_client, member):
    for token in ("", "nope"):
        response = top_up_post(hq_client, **preview_data(member, step="confirm", token=token))
        assert b"This form has expired" in response.content
    assert not Transaction.objects.exists()


def test_member_frozen_between_preview_and_confirm(hq_client, member):
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.FROZEN)

    response = confirm(hq_client, member, str(uuid.uuid4()))

    assert "frozen or closed" in response.context["form"].errors["member"][0]
    assert not Transaction.objects.exists()


def test_cashier_tops_up_at_their_own_store_and_only_their_stores_members(
    cashier_client, member, s2_member
):
    entry = cashier_client.get("/ledger/topup/").content.decode()
    assert 'name="store"' not in entry

    # A store field sent anyway is ignored: a cashier pays in at their own store.
    done = confirm(cashier_client, member, str(uuid.uuid4()), amount="100", store="S2")
    other = top_up_post(cashier_client, **preview_data(s2_member))

    assert done.status_code == 302
    assert Transaction.objects.get().store.code == "S1"
    assert "No member with this mobile" in other.context["form"].errors["member"][0]


def test_cashier_cannot_see_another_stores_receipt(hq_client, cashier_client, s2_member):
    response = confirm(hq_client, s2_member, str(uuid.uuid4()), store="S2")

    assert cashier_client.get(response["Location"]).status_code == 404
    assert hq_client.get(response["Location"]).status_code == 200
    assert hq_client.get("/ledger/topup/999999/").status_code == 404


def test_find_member_by_card_number_or_formatted_mobile(hq_client, member):
    for lookup in (member.card_no, "+86 138-0013-8000", "１３８００１３８０００"):
        response = top_up_post(hq_client, **preview_data(member, member=lookup))
        assert response.context["preview"].member == member, lookup


def test_marketer_may_not_top_up(marketer, member):
    client = logged_in(marketer)

    assert client.get("/ledger/topup/").status_code == 403
    assert client.post("/ledger/topup/", preview_data(member, step="confirm")).status_code == 403
    assert not Transaction.objects.exists()


# --- liabilities -----------------------------------------------------------------------------


def liability_rows(response) -> dict[str | None, tuple[int, int, int, int]]:
    report = response.context["report"]
    rows = {row.store_code: row for row in report.rows}
    rows["total"] = report.total
    return {
        code: (row.principal, row.bonus, row.points, row.points_value) for code, row in rows.items()
    }


@pytest.fixture
def movements(hq, member, s2_member):
    services.top_up(hq, member, 10000, key="t1")  # + 1000 bonus
    services.top_up(hq, s2_member, 50000, key="t2")  # + 6000 bonus
    services.earn_points(hq, member, 250, key="e1")
    services.pay_stored_value(hq, s2_member, 5600, key="p1")  # proportional: 5000 + 600


def test_liabilities_per_store_and_in_total(hq_client, movements):
    response = hq_client.get("/ledger/liabilities/")

    assert response.status_code == 200
    # 250 points at 100 points = 1 yuan are worth 2.50 yuan.
    assert liability_rows(response) == {
        "S1": (10000, 1000, 250, 250),
        "S2": (45000, 5400, 0, 0),
        "total": (55000, 6400, 250, 250),
    }
    page = response.content.decode()
    assert 'data-figure="stored_value">¥614.00<' in page
    assert 'data-figure="total">¥616.50<' in page
    assert "100 points = ¥1.00" in page


def test_liabilities_now_are_the_balances_every_entry_adds_up_to(hq, member, movements, merchant):
    """Now reads the accounts' cached balances; a moment after the last movement sums the
    entries: both must agree (docs/scale.md)."""
    later = timezone.now() + dt.timedelta(minutes=1)
    services.spend_points(hq, member, 50, key="s1")
    assert selectors.liabilities(merchant) == selectors.liabilities(merchant, later)
    assert selectors.liabilities(merchant)[0].points == 200


def test_liabilities_as_of_a_past_date_exclude_later_movements(hq, hq_client, member):
    now = timezone.now().astimezone(SHANGHAI)
    ten_days_ago = now - dt.timedelta(days=10)
    services.top_up(
        hq, member, 10000, key="old", context=services.Context(occurred_at=ten_days_ago)
    )
    services.earn_points(
        hq, member, 80, key="e", context=services.Context(occurred_at=ten_days_ago)
    )
    services.top_up(hq, member, 50000, key="new")

    past = (now - dt.timedelta(days=5)).date().isoformat()
    then = hq_client.get("/ledger/liabilities/", {"as_of": past})
    today = hq_client.get("/ledger/liabilities/")

    assert liability_rows(then)["total"] == (10000, 1000, 80, 80)
    assert liability_rows(today)["total"] == (60000, 7000, 80, 80)
    assert f"as of {past} 23:59:59" in then.content.decode()


def test_as_of_means_the_end_of_that_day_in_the_merchants_zone(hq, hq_client, member):
    # 23:30 on 1 June in Shanghai is 15:30 UTC: it belongs to 1 June.
    late = dt.datetime(2026, 6, 1, 23, 30, tzinfo=SHANGHAI)
    services.top_up(hq, member, 1000, key="late", context=services.Context(occurred_at=late))

    assert liability_rows(hq_client.get("/ledger/liabilities/", {"as_of": "2026-05-31"})) == {
        "total": (0, 0, 0, 0)
    }
    assert liability_rows(hq_client.get("/ledger/liabilities/", {"as_of": "2026-06-01"}))[
        "total"
    ] == (1000, 0, 0, 0)


def test_bad_as_of_date_falls_back_to_now(hq_client, movements):
    response = hq_client.get("/ledger/liabilities/", {"as_of": "2026-02-30"})

    assert response.status_code == 200
    assert liability_rows(response)["total"][0] == 55000
    assert b"That date was not understood" in response.content


@pytest.mark.parametrize("path", ["/ledger/liabilities/", "/ledger/liabilities/export.xlsx"])
def test_an_as_of_day_without_an_end_falls_back_to_now(hq_client, movements, path):
    """Issue 13: the report runs to the end of `as_of`, and 9999-12-31 has no next day."""
    response = hq_client.get(path, {"as_of": "9999-12-31"})

    assert response.status_code == 200
    if path.endswith("/"):
        assert liability_rows(response)["total"][0] == 55000
        assert b"That date was not understood" in response.content


def test_store_manager_sees_only_their_store(manager, movements):
    response = logged_in(manager).get("/ledger/liabilities/")

    assert liability_rows(response) == {
        "S1": (10000, 1000, 250, 250),
        "total": (10000, 1000, 250, 250),
    }
    assert "滨江店" not in response.content.decode()


def test_cashier_and_marketer_may_not_see_liabilities(cashier, marketer, movements):
    for actor in (cashier, marketer):
        client = logged_in(actor)
        assert client.get("/ledger/liabilities/").status_code == 403
        assert client.get("/ledger/liabilities/export.xlsx").status_code == 403


def test_points_value_follows_the_merchants_redeem_rate(hq, hq_client, member, merchant):
    set_points_policy(merchant, redeem_cash={"points": 3, "value": 2, "max_share_percent": 50})
    services.earn_points(hq, member, 10, key="e")  # 10 * 2 / 3 = 6.67 fen -> 7

    assert liability_rows(hq_client.get("/ledger/liabilities/"))["total"] == (0, 0, 10, 7)


def test_liabilities_export_to_excel(hq_client, movements):
    from openpyxl import load_workbook

    response = hq_client.get("/ledger/liabilities/export.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [
        row
        for row in sheet.iter_rows(values_only=True)
        if row[0] in ("S1", "S2") or row[1] == "Total"
    ]
    assert rows[0][:2] == ("S1", "西湖店")
    assert [float(value) for value in rows[0][2:5]] == [100.0, 10.0, 110.0]
    assert rows[0][5] == 250 and float(rows[0][6]) == 2.5
    assert rows[1][0] == "S2" and float(rows[1][4]) == 504.0
    total = rows[-1]
    assert total[1] == "Total" and float(total[4]) == 614.0 and total[5] == 250


# --- navigation ------------------------------------------------------------------------------


def test_navigation_links_by_role(hq, manager, cashier, marketer):
    pages = {
        actor: logged_in(actor).get("/").content.decode()
        for actor in (hq, manager, cashier, marketer)
    }

    for actor in (hq, manager):
        assert 'href="/ledger/topup/"' in pages[actor]
        assert 'href="/ledger/liabilities/"' in pages[actor]
    assert 'href="/ledger/topup/"' in pages[cashier]
    assert 'href="/ledger/liabilities/"' not in pages[cashier]
    assert 'href="/ledger/topup/"' not in pages[marketer]
    assert 'href="/ledger/liabilities/"' not in pages[marketer]


def test_store_managers_export_holds_only_their_store(manager, movements):
    from openpyxl import load_workbook

    response = logged_in(manager).get("/ledger/liabilities/export.xlsx")

    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert codes == ["S1", None]  # the store, then the total row


def test_each_page_load_renders_a_fresh_one_time_token(hq_client, member):
    def token() -> str:
        page = hq_client.get(f"/ledger/members/{member.pk}/").content.decode()
        return re.search(r'name="token" value="([^"]+)"', page).group(1)

    first, second = token(), token()
    assert first != second
    assert uuid.UUID(first).version == 4
