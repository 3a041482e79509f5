"""Alliances through the API (API.md §12): invite, accept, exchange, statement, both ledgers
balanced; bad input refused with nothing written; pause and end keep the history."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.ledger.models import Account, SystemAccount, Transaction
from patron.members.models import Member
from patron.network.models import Alliance, AllianceExchange, AllianceStep, MemberTwin
from tests.network.alliance_support import (
    RATE,
    acme_api,
    alliance,
    get,
    member_with_points,
    points_of,
    post,
    reconciled,
    tea,
    tea_api,
)

__all__ = ["acme_api", "alliance", "tea", "tea_api"]  # fixtures
pytestmark = pytest.mark.postgres  # points move between two ledgers


def this_month() -> str:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def test_invite_accept_and_list_on_both_sides(acme_api, tea_api, merchant, tea):
    created = post(acme_api, "/alliances", {"partner": "tea", "rate": RATE})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "invited" and body["partner"] == "tea"
    assert body["rate"] == RATE and body["value"] == {"points": 100, "amount": 100}
    assert body["other"] == {"slug": "tea", "name": "茶言茶馆"} and body["role"] == "proposer"
    pk = body["id"]
    # Only the partner accepts.
    assert post(acme_api, f"/alliances/{pk}/accept").status_code == 403
    accepted = post(tea_api, f"/alliances/{pk}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    assert accepted.json()["role"] == "partner"
    assert [s["action"] for s in accepted.json()["steps"]] == ["invite", "accept"]
    assert post(tea_api, f"/alliances/{pk}/accept").status_code == 200  # again: as it is
    for client in (acme_api, tea_api):
        listed = get(client, "/alliances").json()
        assert [a["id"] for a in listed] == [pk]
        assert get(client, f"/alliances/{pk}").json()["status"] == "active"


def test_an_exchange_moves_points_at_the_rate_and_both_books_balance(
    acme_api, tea_api, alliance, merchant, tea
):
    wang = member_with_points(merchant, "13800000001", 1000)
    made = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 500})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["points_out"], body["points_in"], body["amount"]) == (500, 400, 400)
    assert body["created_member"] is True
    twin = Member.objects.get(pk=body["member_at_partner"]["id"])
    assert twin.merchant_id == tea.pk and twin.mobile == wang.mobile
    assert (
        twin.source_channel == "alliance" and twin.card_no == body["member_at_partner"]["card_no"]
    )
    assert twin.card_no != wang.card_no
    assert points_of(wang) == 500 and points_of(twin) == 400
    assert MemberTwin.objects.get(member=wang).twin == twin
    # A second exchange finds the same twin.
    again = post(
        acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.card_no, "points": 100}
    )
    assert again.status_code == 201 and again.json()["member_at_partner"]["id"] == twin.pk
    assert again.json()["created_member"] is False
    assert points_of(twin) == 480
    # The other way: the tea house's member moves points back at the inverse rate.
    back = post(tea_api, f"/alliances/{alliance}/exchanges", {"member": twin.pk, "points": 80})
    assert back.status_code == 201, back.content
    assert (back.json()["points_out"], back.json()["points_in"]) == (80, 100)
    assert back.json()["member_at_partner"]["id"] == wang.pk
    assert points_of(wang) == 500 and points_of(twin) == 400
    assert reconciled(merchant, tea)
    kinds = set(Transaction.objects.filter(source="alliance").values_list("kind", flat=True))
    assert kinds == {"alliance_out", "alliance_in"}
    assert Account.objects.filter(system_code=SystemAccount.ALLIANCE).count() == 2

    # The statement: the same figures on both sides.
    month = this_month()
    seen = [get(c, f"/alliances/{alliance}/statement", month=month) for c in (acme_api, tea_api)]
    assert seen[0].status_code == 200, seen[0].content
    assert seen[0].json() == seen[1].json()
    statement = seen[0].json()
    rows = {(r["from"], r["to"]): r for r in statement["rows"]}
    assert rows[("acme", "tea")] | {} == {
        "from": "acme",
        "to": "tea",
        "points_out": 600,
        "points_in": 480,
        "amount": 480,
        "exchanges": 2,
    }
    assert rows[("tea", "acme")]["points_out"] == 80 and rows[("tea", "acme")]["amount"] == 100
    assert statement["net"] == {"acme": -380, "tea": 380}
    assert (statement["payer"], statement["payee"], statement["amount"]) == ("acme", "tea", 380)
    # Another month is empty.
    empty = get(acme_api, f"/alliances/{alliance}/statement", month="2020-01").json()
    assert empty["amount"] == 0 and empty["payer"] is None


def test_the_agreed_value_rounds_half_up(acme_api, tea_api, merchant, tea):
    body = {"partner": "tea", "rate": {"points": 1, "partner_points": 1}}
    body["value"] = {"points": 2, "amount": 1}
    pk = post(acme_api, "/alliances", body).json()["id"]
    post(tea_api, f"/alliances/{pk}/accept")
    wang = member_with_points(merchant, "13800000002", 10)
    made = post(acme_api, f"/alliances/{pk}/exchanges", {"member": wang.pk, "points": 3})
    assert made.json()["amount"] == 2  # 1.5 fen: up


def test_more_points_than_held_is_refused_and_nothing_is_written(acme_api, alliance, merchant, tea):
    wang = member_with_points(merchant, "13800000003", 100)
    refused = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 105})
    assert refused.status_code == 422
    assert refused.json()["code"] == "insufficient_points"
    assert points_of(wang) == 100
    assert not AllianceExchange.objects.exists()
    assert not Member.objects.filter(merchant=tea).exists()  # the twin was not kept either
    assert not Transaction.objects.filter(source="alliance").exists()


def test_a_number_that_does_not_convert_names_the_nearest(acme_api, alliance, merchant):
    wang = member_with_points(merchant, "13800000004", 1000)
    refused = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 123})
    assert refused.status_code == 422
    assert refused.json()["code"] == "points_not_whole"
    assert "120" in refused.json()["detail"] and "125" in refused.json()["detail"]
    assert points_of(wang) == 1000 and not AllianceExchange.objects.exists()
    for points in (0, -5):
        bad = post(
            acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": points}
        )
        assert bad.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"partner": "acme", "rate": RATE}, "partner"),
        ({"partner": "nobody", "rate": RATE}, "partner"),
        ({"partner": "tea", "rate": {"points": 0, "partner_points": 80}}, "rate.points"),
        ({"partner": "tea", "rate": {"points": 100, "partner_points": -1}}, "rate.partner_points"),
        (
            {"partner": "tea", "rate": RATE, "value": {"points": 0, "amount": 1}},
            "value.points",
        ),
    ],
)
def test_bad_invitations_are_refused(acme_api, tea, body, field):
    refused = post(acme_api, "/alliances", body)
    assert refused.status_code == 422, refused.content
    assert field in [error["field"] for error in refused.json()["errors"]]
    assert not Alliance.objects.exists()


def test_one_live_alliance_per_pair(acme_api, tea_api, alliance):
    again = post(tea_api, "/alliances", {"partner": "acme", "rate": RATE})
    assert again.status_code == 409 and again.json()["code"] == "alliance_exists"
    assert Alliance.objects.count() == 1
    post(acme_api, f"/alliances/{alliance}/end")
    assert post(tea_api, "/alliances", {"partner": "acme", "rate": RATE}).status_code == 201


def test_another_merchants_alliance_is_not_found(alliance, other_api):
    assert get(other_api, f"/alliances/{alliance}").status_code == 404
    assert post(other_api, f"/alliances/{alliance}/pause").status_code == 404
    assert get(other_api, "/alliances").json() == []
    assert get(other_api, f"/alliances/{alliance}/statement", month="2027-03").status_code == 404


def test_pause_and_end_keep_what_was_exchanged(acme_api, tea_api, alliance, merchant, tea):
    wang = member_with_points(merchant, "13800000005", 1000)
    made = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 500})
    twin_id = made.json()["member_at_partner"]["id"]
    assert post(tea_api, f"/alliances/{alliance}/pause").json()["status"] == "paused"
    paused = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 100})
    assert paused.status_code == 409 and paused.json()["code"] == "alliance_not_active"
    assert post(acme_api, f"/alliances/{alliance}/resume").json()["status"] == "active"
    assert post(acme_api, f"/alliances/{alliance}/end").json()["status"] == "ended"
    ended = post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 100})
    assert ended.status_code == 409 and ended.json()["code"] == "alliance_not_active"
    assert post(tea_api, f"/alliances/{alliance}/resume").status_code == 409
    assert points_of(wang) == 500 and points_of(Member.objects.get(pk=twin_id)) == 400
    statement = get(tea_api, f"/alliances/{alliance}/statement", month=this_month()).json()
    assert statement["amount"] == 400 and statement["payee"] == "tea"
    actions = list(AllianceStep.objects.values_list("action", flat=True))
    assert actions == ["invite", "accept", "pause", "resume", "end"]
    assert reconciled(merchant, tea)


def test_decline(acme_api, tea_api, tea):
    pk = post(acme_api, "/alliances", {"partner": "tea", "rate": RATE}).json()["id"]
    assert post(tea_api, f"/alliances/{pk}/decline").json()["status"] == "declined"
    assert post(tea_api, f"/alliances/{pk}/accept").status_code == 409
    assert get(acme_api, "/alliances/" + str(pk)).json()["status"] == "declined"


def test_an_idempotency_key_replays_the_exchange(acme_api, alliance, merchant):
    wang = member_with_points(merchant, "13800000006", 1000)
    path = f"/alliances/{alliance}/exchanges"
    first = post(acme_api, path, {"member": wang.pk, "points": 100}, **{"Idempotency-Key": "k1"})
    again = post(acme_api, path, {"member": wang.pk, "points": 100}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert points_of(wang) == 900 and AllianceExchange.objects.count() == 1


def test_the_command_lists_alliances_and_prints_the_statement(acme_api, alliance, merchant):
    from io import StringIO

    from django.core.management import CommandError, call_command

    wang = member_with_points(merchant, "13800000007", 1000)
    post(acme_api, f"/alliances/{alliance}/exchanges", {"member": wang.pk, "points": 500})
    listed = StringIO()
    call_command("alliances", "--merchant", "tea", stdout=listed)
    assert f"{alliance}\tacme\tAcme 连锁\tactive\t100:80" in listed.getvalue()
    out = StringIO()
    call_command(
        "alliances",
        "--merchant",
        "tea",
        "--statement",
        str(alliance),
        "--month",
        this_month(),
        stdout=out,
    )
    assert "acme -> tea: 500 points out, 400 in, 1 exchanges, owed 400 fen" in out.getvalue()
    assert "acme pays tea 400 fen" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("alliances", "--merchant", "tea", "--statement", str(alliance), "--month", "x")
