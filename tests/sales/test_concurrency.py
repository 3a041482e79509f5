"""Checkouts racing each other in separate OS processes, or threads over HTTP (PostgreSQL only).

SQLite serialises writers, so only PostgreSQL's row locks show whether a coupon is used once,
an idempotency key commits one sale, and one member's balances are never overspent while many
tills sell to that member at once.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from patron.core.errors import DomainError
from patron.ledger import services as ledger
from patron.ledger.models import Account, Asset, Transaction
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.promotions.services import issue_coupon
from patron.sales import services as sales_services
from patron.sales.models import MemberStats, Sale
from patron.sales.services import LineInput, SaleRequest, commit_sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 10
TEA = {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000}
Outcome = tuple[str, int | None]  # ("ok", sale id) or (error code, None)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


# --- running sales in child processes --------------------------------------------------------


def sell(merchant_id: int, body: dict, key: str) -> Outcome:
    """One checkout as a till's request would make it; DomainErrors become their code."""
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    request = SaleRequest(
        lines=[LineInput(**line) for line in body["lines"]],
        member=body.get("member"),
        store="S1",
        codes=list(body.get("codes", [])),
        points_to_redeem=body.get("points_to_redeem", 0),
        stored_value=body.get("stored_value", 0),
    )
    try:
        return "ok", commit_sale(actor, request, key=key).pk
    except DomainError as error:
        return error.code, None
    except Exception as error:  # a deadlock or a 500 would land here: a failure of the test
        return f"unexpected: {type(error).__name__}: {error}", None


def _child(barrier, results, index: int, job: Callable[[int], list[Outcome]]) -> None:
    connections.close_all()  # never share the parent's socket
    try:
        barrier.wait(timeout=60)
        results.put((index, job(index)))
    except BaseException as error:  # reported by the parent, not lost with the process
        results.put((index, [(f"unexpected: {type(error).__name__}: {error}", None)]))
    finally:
        connections.close_all()


def in_processes(
    count: int, job: Callable[[int], list[Outcome]], timeout: float = 180
) -> list[Outcome]:
    """Run `job(i)` in `count` forked processes released together; all their outcomes (each
    process gets `timeout` seconds to report)."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(count), context.Queue()
    processes = [
        context.Process(target=_child, args=(barrier, results, index, job))
        for index in range(count)
    ]
    for process in processes:
        process.start()
    collected = dict(results.get(timeout=timeout) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    return [outcome for index in sorted(collected) for outcome in collected[index]]


def balances(member: Member) -> dict[str, int]:
    return ledger.quick_balances(member)


def stored_value(member: Member) -> int:
    figures = balances(member)
    return figures[Asset.PRINCIPAL] + figures[Asset.BONUS]


# --- a. one coupon, ten sales ----------------------------------------------------------------


def test_one_coupon_named_by_ten_sales_is_used_by_exactly_one(system, gold):
    coupon = issue_coupon(system, gold, "cash20")
    body = {"member": gold.pk, "lines": BASKET, "codes": [coupon.code], "points_to_redeem": 1000}
    merchant_id = system.merchant.pk

    outcomes = in_processes(RACERS, lambda i: [sell(merchant_id, body, key=f"till-{i}")])

    assert Counter(code for code, _ in outcomes) == Counter(
        {"ok": 1, "coupon_not_applicable": RACERS - 1}
    ), outcomes
    [sale_id] = [sale_id for code, sale_id in outcomes if code == "ok"]
    assert list(Sale.objects.values_list("pk", flat=True)) == [sale_id]
    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_in) == ("used", str(sale_id))
    sale = Sale.objects.get()
    assert sale.discounts.filter(coupon_id=coupon.pk).count() == 1
    assert Transaction.objects.filter(kind="spend").count() == 1
    assert balances(gold)[Asset.POINTS] == 5000 - 1000 + sale.points_earned
    assert MemberStats.objects.get(member=gold).visits == 1
    assert reconcile(system.merchant) == []


# --- b. one Idempotency-Key, ten requests ----------------------------------------------------


def sale_body(member: Member) -> dict:
    # 5,000 fen of stored value stays under the program's PIN threshold (10,000).
    return {
        "member": member.pk,
        "store": "S1",
        "lines": BASKET,
        "codes": ["SPRING10"],
        "points_to_redeem": 1000,
        "stored_value": 5000,
    }


def post_sales_from_threads(api_key: str, body: str, keys: list[str]) -> list[tuple[str, Any]]:
    """POST /api/v1/sales once per key, each from its own thread with its own connection,
    all released together; (key, response) in the order the answers came."""
    barrier = threading.Barrier(len(keys))
    answers: list[tuple[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send(key: str) -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {api_key}"})
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/sales",
                data=body,
                content_type="application/json",
                headers={"Idempotency-Key": key},
            )
            with lock:
                answers.append((key, response))
        except BaseException as error:  # reported below, in the test's thread
            with lock:
                errors.append(error)
        finally:
            connection.close()  # each thread has its own connection: close it here

    threads = [threading.Thread(target=send, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return answers


def test_one_idempotency_key_over_http_from_ten_threads_sells_once(api_key, gold):
    responses = post_sales_from_threads(
        api_key, json.dumps(sale_body(gold)), ["till-7-000123"] * RACERS
    )

    answers = [
        (response.status_code, response.json(), response.get("Idempotent-Replayed"))
        for _key, response in responses
    ]
    assert [status for status, _, _ in answers] == [201] * RACERS, answers
    assert len({answer["id"] for _, answer, _ in answers}) == 1
    assert sorted(str(replayed) for _, _, replayed in answers) == ["None"] + ["true"] * 9
    sale = Sale.objects.get()
    assert sale.pk == answers[0][1]["id"]
    assert Transaction.objects.filter(kind="spend").count() == 1
    assert Transaction.objects.filter(kind="pay").count() == 1
    assert stored_value(gold) == 10000 - 5000
    assert balances(gold)[Asset.POINTS] == 5000 - 1000 + sale.points_earned
    assert MemberStats.objects.get(member=gold).visits == 1
    assert reconcile(gold.merchant) == []


def test_one_coupon_over_http_from_ten_threads_with_their_own_keys(api_key, system, gold):
    """Each loser gets its error, stored under its own key, and nothing of theirs stays (a
    loser failing after writing its sale takes no savepoint under the Idempotency-Key
    middleware: its whole transaction rolls back and the answer is stored anew)."""
    coupon = issue_coupon(system, gold, "cash20")
    body = json.dumps({**sale_body(gold), "codes": [coupon.code]})
    keys = [f"till-{index}-coupon" for index in range(RACERS)]
    answers = {
        key: (response.status_code, response.content)
        for key, response in post_sales_from_threads(api_key, body, keys)
    }

    # A loser that priced after the winner committed is refused while pricing (422); one that
    # priced before fails after writing its sale (409): both are "coupon_not_applicable".
    assert Counter(status for status, _ in answers.values())[201] == 1, answers
    lost = [json.loads(content) for status, content in answers.values() if status != 201]
    assert {(answer["status"] in (409, 422), answer["code"]) for answer in lost} == {
        (True, "coupon_not_applicable")
    }, lost
    sale = Sale.objects.get()
    assert Transaction.objects.filter(kind="spend").count() == 1
    assert stored_value(gold) == 10000 - 5000
    assert MemberStats.objects.get(member=gold).visits == 1
    client = Client(headers={"Authorization": f"Bearer {api_key}"})
    for key in keys:  # every key answers again exactly as it did the first time
        again = client.post(
            "/api/v1/sales",
            data=body,
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )
        assert (again.status_code, again.content) == answers[key]
        assert again["Idempotent-Replayed"] == "true"
    assert Sale.objects.get().pk == sale.pk
    assert reconcile(gold.merchant) == []


def test_one_key_given_to_commit_sale_from_ten_processes_sells_once(system, gold):
    body = sale_body(gold)
    merchant_id = system.merchant.pk

    outcomes = in_processes(RACERS, lambda i: [sell(merchant_id, body, key="till-7-000124")])

    assert [code for code, _ in outcomes] == ["ok"] * RACERS, outcomes
    assert len({sale_id for _, sale_id in outcomes}) == 1
    sale = Sale.objects.get()
    assert sale.pk == outcomes[0][1]
    assert Transaction.objects.filter(kind="spend").count() == 1
    assert Transaction.objects.filter(kind="pay").count() == 1
    assert stored_value(gold) == 10000 - 5000
    assert balances(gold)[Asset.POINTS] == 5000 - 1000 + sale.points_earned
    assert reconcile(system.merchant) == []


def other_till(merchant_id: int, body: dict, outcomes: list[Outcome]) -> None:
    try:
        outcomes.append(sell(merchant_id, body, "k"))
    finally:
        connection.close()  # this thread's own connection


def test_a_retry_that_prices_just_after_the_first_commit_still_gets_the_sale(
    system, program, monkeypatch
):
    """In the 10-process race above a caller lands in this window only now and then; here the
    other till's commit is put in it on purpose: after this call's key look-up, before its
    pricing. The retry must answer with that sale, not with the balances it drained."""
    member = register_member(system, {"mobile": "13900139001", "store": "S1"})
    ledger.top_up(system, member, 5000, key="fund-sv")
    ledger.adjust_points(system, member, 1000, reason="opening balance", key="fund-pt")
    body = sale_body(member) | {"codes": [issue_coupon(system, member, "cash20").code]}
    merchant_id, first, raced = system.merchant.pk, [], threading.Event()
    real_price = sales_services.price

    def price_after_the_other_till_committed(actor, request):
        if not raced.is_set():  # the other till sells on its own connection, then we go on
            raced.set()
            other = threading.Thread(target=other_till, args=(merchant_id, body, first))
            other.start()
            other.join(timeout=60)
        return real_price(actor, request)

    monkeypatch.setattr(sales_services, "price", price_after_the_other_till_committed)
    retry = sell(merchant_id, body, "k")

    assert first[0][0] == "ok", first
    assert retry == first[0]
    assert Sale.objects.count() == 1
    assert stored_value(member) == 0


# --- c. eight tills, one member --------------------------------------------------------------

TILLS, TRIES = 8, 5
# Each sale: a 2,000 fen tea, 500 points off (500 fen), the remaining 1,500 fen from stored
# value; it earns 15 points back. 15,000 fen pay for exactly 10 sales; 5,000 points last
# exactly 10 sales too (5,000 - 9 x 485 = 635 >= 500, then 150 < 500).
POINTS_PER_SALE, PAID_PER_SALE = 500, 1500
START_POINTS, START_VALUE = 5000, 15000


@pytest.fixture
def regular(system, program):
    member = register_member(system, {"mobile": "13900139000", "store": "S1"})
    ledger.top_up(system, member, START_VALUE, key="fund-sv")
    ledger.adjust_points(system, member, START_POINTS, reason="opening balance", key="fund-pt")
    return member


def till(merchant_id: int, member_id: int, index: int, redeem: bool) -> list[Outcome]:
    body = {
        "member": member_id,
        "lines": [TEA],
        "points_to_redeem": POINTS_PER_SALE if redeem else 0,
        "stored_value": PAID_PER_SALE if redeem else 2000,
    }
    return [sell(merchant_id, body, key=f"till-{index}-{n}") for n in range(TRIES)]


def committed(member: Member) -> dict[str, int]:
    sales = Sale.objects.filter(member=member)
    return {
        "sales": sales.count(),
        "redeemed": sum(sales.values_list("points_redeemed", flat=True)),
        "earned": sum(sales.values_list("points_earned", flat=True)),
        "paid": sum(sales.values_list("stored_value_paid", flat=True)),
    }


def test_eight_tills_selling_to_one_member_never_overspend(system, regular):
    merchant_id, member_id = system.merchant.pk, regular.pk

    outcomes = in_processes(TILLS, lambda i: till(merchant_id, member_id, i, redeem=True))

    codes = Counter(code for code, _ in outcomes)
    assert codes["ok"] == 10, codes
    assert set(codes) <= {"ok", "insufficient_balance", "insufficient_points"}, codes
    moved = committed(regular)
    assert moved["sales"] == 10
    assert moved["redeemed"] == 10 * POINTS_PER_SALE
    assert moved["paid"] == 10 * PAID_PER_SALE == START_VALUE - stored_value(regular)
    assert balances(regular)[Asset.POINTS] == START_POINTS - moved["redeemed"] + moved["earned"]
    assert all(a.balance >= 0 for a in Account.objects.filter(member=regular))
    assert MemberStats.objects.get(member=regular).visits == 10
    assert reconcile(system.merchant) == []


def test_tills_with_and_without_points_do_not_deadlock(system, regular):
    """Half the tills redeem points, half pay everything from stored value: every sale still
    takes the member's account locks in one order, so none is killed as a deadlock victim."""
    ledger.top_up(system, regular, 100_000, key="fund-more")
    merchant_id, member_id = system.merchant.pk, regular.pk

    outcomes = in_processes(TILLS, lambda i: till(merchant_id, member_id, i, redeem=i % 2 == 0))

    codes = Counter(code for code, _ in outcomes)
    assert set(codes) <= {"ok", "insufficient_points"}, codes
    moved = committed(regular)
    assert moved["sales"] == codes["ok"]
    assert START_VALUE + 100_000 - stored_value(regular) == moved["paid"]
    assert balances(regular)[Asset.POINTS] == START_POINTS - moved["redeemed"] + moved["earned"]
    assert all(a.balance >= 0 for a in Account.objects.filter(member=regular))
    assert reconcile(system.merchant) == []


# --- d. a member's first visit at two tills at once ------------------------------------------

RICE = {"sku": "RICE", "category": "dishes", "quantity": 1, "unit_price": 50}


def till_in_thread(merchant_id: int, body: dict, key: str, outcomes: list[Outcome]) -> None:
    try:
        outcomes.append(sell(merchant_id, body, key))
    finally:
        connection.close()  # this thread's own connection


def test_a_members_first_sales_at_two_tills_at_once_count_two_visits(system, program):
    """A 0.50 yuan basket earns no point and pays no stored value, so the sale takes no lock on
    the member's accounts: two tills selling the member's first sale at the same moment meet
    only on the member's figures, which are one upsert (INSERT ... ON CONFLICT DO UPDATE):
    both sales land and both visits count."""
    member = register_member(system, {"mobile": "13900139002", "store": "S1"})
    body, merchant_id = {"member": member.pk, "lines": [RICE]}, system.merchant.pk
    outcomes: list = []
    start = threading.Barrier(2)

    def till(key: str) -> None:
        start.wait(timeout=30)
        till_in_thread(merchant_id, body, key, outcomes)

    tills = [threading.Thread(target=till, args=(f"till-{n}",)) for n in (1, 2)]
    for thread in tills:
        thread.start()
    for thread in tills:
        thread.join(timeout=60)

    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "ok"], outcomes
    assert Sale.objects.filter(member=member).count() == 2
    assert MemberStats.objects.get(member=member).visits == 2
