"""Console pages and the till answer hostile input with a page, a form error or a 4xx, never 5xx.

Issue 13 (hardening), defects 5 and 6: a NUL byte (PostgreSQL refuses it in text), a day at the
calendar's end (the day after 9999-12-31 overflows) or a character `str.isdigit()` passes and
`int()` refuses ("፩") reached the database or `int()` unchecked. The sweeps walk every console
GET URL with each query parameter it reads (and one it does not) set to each hostile value, and
post each hostile value in every input of the till's page and of a refund, and of every other
console form (a guard: those were already safe), as HQ admin and as a cashier (who may get a 403
or 404 instead, but no 5xx). On PostgreSQL too: NUL is its refusal.
"""

from __future__ import annotations

import io
import re

import pytest

from patron.ledger import services as ledger
from patron.members.importing.service import import_members
from patron.members.models import Member
from patron.program.services import apply_program
from patron.promotions.services import issue_coupon
from patron.sales import services as sales
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# A NUL byte, the calendar's ends, digits that are digits only to Python, a number that
# overflows every column when its full-width digits are read, and more text than any input takes.
HOSTILE = [
    "\x00",
    "9999-12-31",
    "0001-01-01",
    "²",
    "፩",
    "١٢٣",
    "９" * 22,
    "x" * 300,
]

# Each console page reached with GET and the query parameters it reads (its forms' fields and
# the links the templates build); the ids in braces come from the `world` fixture.
PAGES: list[tuple[str, tuple[str, ...]]] = [
    ("/", ()),
    (
        "/members/",
        (
            "q",
            "store",
            "gender",
            "source_channel",
            "tag",
            "status",
            "joined_from",
            "joined_to",
            "page",
        ),
    ),
    ("/members/new/", ()),
    ("/members/{member}/", ("sales_cursor",)),
    ("/members/{member}/edit/", ()),
    ("/members/import/", ()),
    ("/members/import/template.xlsx", ()),
    ("/members/import/{batch}/", ("page",)),
    ("/members/import/{batch}/errors.csv", ()),
    (
        "/ledger/members/{member}/",
        ("asset", "kind", "date_from", "date_to", "page", "cursor", "lots"),
    ),
    ("/ledger/topup/", ("member",)),
    ("/ledger/topup/{topup}/", ()),
    ("/ledger/liabilities/", ("as_of",)),
    ("/ledger/liabilities/export.xlsx", ("as_of",)),
    ("/promotions/", ()),
    ("/cashier/", ("store", "pick")),
    ("/cashier/sales/", ("store", "cursor")),
    ("/cashier/sales/{sale}/", ()),
    ("/stores/", ()),
    ("/stores/new/", ()),
    ("/stores/{store}/edit/", ()),
    ("/staff/", ()),
    ("/staff/new/", ()),
    ("/staff/{staff}/edit/", ()),
    ("/api-keys/", ()),
    ("/api-keys/new/", ()),
    ("/audit/", ("object_type", "action", "date_from", "date_to", "page", "cursor")),
    ("/whatif/", ()),
]


PROGRAM = {
    "categories": ["retail"],
    "checkout": {"pin_required_above": 0},
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "gold", "name": "金卡会员", "rank": 1},
    ],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
}


@pytest.fixture
def world(system, stores, hq, cashier, make_member) -> dict[str, int]:
    """One of everything a console URL names: a member with a top-up, a PIN (asked for any
    stored value) and a coupon, a sale, an import."""
    apply_program(system, PROGRAM)
    member: Member = make_member(store="S1")
    topup = ledger.top_up(system, member, 1_000_000, key="sweep-topup")
    sales.set_pin(system, member, "246810")
    line = sales.LineInput(sku="TEA", category="retail", quantity=1, unit_price=1000)
    sale: Sale = sales.commit_sale(
        cashier, sales.SaleRequest(lines=[line], member=member.pk), key="sweep-sale"
    )
    csv = io.BytesIO("mobile,name\n12345,坏号码\n".encode())
    batch = import_members(hq, csv, file_name="bad.csv", dry_run=True, default_store="S1").batch
    coupon = issue_coupon(system, member, "cash20")
    return {
        "coupon": coupon.pk,
        "member": member.pk,
        "sale": sale.pk,
        "batch": batch.pk,
        "store": stores["S1"].pk,
        "staff": cashier.staff.pk,
        "topup": topup.pk,
    }


# Ids in paths beyond what a bigint column holds (the URL patterns take any ASCII digits).
HUGE_ID = str(2**64)


def hostile_queries() -> list[tuple[str, str, str]]:
    cases = []
    for url, parameters in PAGES:
        cases.append((url, "", ""))
        if "{" in url:
            cases.append((re.sub(r"\{[a-z]+\}", HUGE_ID, url), "", ""))
        for name in (*parameters, "unknown"):
            cases += [(url, name, value) for value in HOSTILE]
    return cases


@pytest.mark.parametrize("role", ["hq", "cashier"])
def test_no_console_page_answers_5xx_to_hostile_query_parameters(request, world, role):
    actor: Actor = request.getfixturevalue(role)
    client = logged_in(actor)
    client.raise_request_exception = False  # a 500 is counted, not raised
    failures = []
    for url, name, value in hostile_queries():
        path = url.format(**world)
        response = client.get(path, {name: value} if name else {})
        if response.status_code >= 500:
            failures.append(f"{path} ?{name}={value!r} -> {response.status_code}")
    assert not failures, "\n".join(failures)


# --- the till's posts --------------------------------------------------------------------------

# Every input the till's page posts, with the operation that reads it.
TILL_INPUTS: list[tuple[str, str]] = [
    ("key", "quote"),
    ("store", "quote"),
    ("member", "quote"),
    ("line_sku", "quote"),
    ("line_category", "quote"),
    ("line_price", "quote"),
    ("line_qty", "quote"),
    ("line_name", "quote"),
    ("code", "quote"),
    ("points", "quote"),
    ("stored_value", "quote"),
    ("pin", "quote"),
    ("scan", "scan"),
    ("member_code", "identify"),
    ("code_input", "add_code"),
    ("item_sku", "add_item"),
    ("item_category", "add_item"),
    ("item_price", "add_item"),
    ("item_qty", "add_item"),
    ("item_name", "add_item"),
    ("item_index", "add_item"),
]
# Operations that take an argument (`more:2`), and the hostile arguments.
TILL_ARGUMENT_OPS = ["more", "less", "edit", "remove", "remove_code", "apply"]


def till_basket(world: dict[str, int], **changes: str) -> dict[str, object]:
    """A basket of the till's page that commits: one line, the member identified, one fen of
    stored value with the PIN typed (no key: each post is a new sale)."""
    body: dict[str, object] = {
        "store": "S1",
        "member": str(world["member"]),
        "line_sku": ["TEA"],
        "line_category": ["retail"],
        "line_price": ["1000"],
        "line_qty": ["1"],
        "line_name": ["茶"],
        "points": "0",
        "stored_value": "0.01",
        "pin": "246810",
        "item_sku": "NEW",
        "item_category": "retail",
        "item_price": "12.50",
        "item_qty": "1",
        "item_name": "新",
    }
    body.update(changes)
    return body


def till_posts(world: dict[str, int]) -> list[tuple[str, dict[str, object]]]:
    posts = []
    for value in HOSTILE:
        for name, op in TILL_INPUTS:
            body = till_basket(world, **{name: value}, op=op)
            posts += [("/cashier/quote/", body), ("/cashier/commit/", body)]
        for op in TILL_ARGUMENT_OPS:
            posts.append(("/cashier/quote/", till_basket(world, op=f"{op}:{value}")))
    refund = f"/cashier/sales/{world['sale']}/refund/"
    for value in HOSTILE:
        for name in ("qty_0", "reason", "key"):
            posts.append((refund, {"qty_0": "1", "reason": "", "key": "", name: value}))
    return posts


@pytest.mark.parametrize("role", ["hq", "cashier"])
def test_the_till_answers_every_hostile_input_without_a_5xx(request, world, role):
    actor: Actor = request.getfixturevalue(role)
    client = logged_in(actor)
    client.raise_request_exception = False
    failures = [
        f"{url} {body.get('op', '')} {changed(body, world)} -> {response.status_code}"
        for url, body in till_posts(world)
        if (response := client.post(url, body)).status_code >= 500
    ]
    assert not failures, "\n".join(failures)


def changed(body: dict[str, object], world: dict[str, int]) -> dict[str, object]:
    """The inputs of `body` that differ from the valid basket (for the failure message)."""
    valid = till_basket(world)
    return {name: value for name, value in body.items() if valid.get(name) != value}


def test_the_sweeps_basket_commits(world, cashier):
    """The till sweep's valid basket is a sale, so each hostile input reaches the writes."""
    client = logged_in(cashier)
    response = client.post("/cashier/commit/", till_basket(world))
    assert response.status_code == 302 and Sale.objects.count() == 2


# --- every other console form ------------------------------------------------------------------

# Each console form that posts, with a plausible body; `{...}` ids come from the `world` fixture.
FORMS: list[tuple[str, dict[str, str]]] = [
    (
        "/members/new/",
        {
            "mobile": "13900139001",
            "name": "张三",
            "gender": "M",
            "birthday": "1990-01-02",
            "lunar_birthday": "08-15",
            "email": "a@example.com",
            "store": "S1",
            "source_channel": "console",
            "referrer_code": "",
            "tags": "商务",
            "id_number": "",
            "region": "杭州",
            "occupation": "",
            "income_band": "",
            "address": "",
        },
    ),
    ("/members/{member}/edit/", {"mobile": "13800138099", "name": "李四", "store": "S1"}),
    ("/stores/new/", {"code": "S9", "name": "新店", "address": "", "phone": ""}),
    ("/stores/{store}/edit/", {"code": "S1", "name": "西湖店", "address": "", "phone": ""}),
    (
        "/staff/new/",
        {
            "username": "new.cashier",
            "full_name": "",
            "password": "pw-123456",
            "role": "cashier",
            "store": "S1",
        },
    ),
    ("/staff/{staff}/edit/", {"role": "cashier", "is_active": "on", "store": "S1"}),
    ("/staff/{staff}/password/", {"password": "pw-654321", "password_again": "pw-654321"}),
    ("/api-keys/new/", {"name": "POS"}),
    (
        "/ledger/topup/",
        {
            "member": "13800138000",
            "amount": "10",
            "payment_method": "cash",
            "store": "S1",
            "step": "preview",
        },
    ),
    ("/ledger/members/{member}/adjust/", {"points": "10", "reason": "补偿", "token": ""}),
    ("/promotions/members/{member}/coupons/", {"template": "cash20", "token": ""}),
    ("/promotions/members/{member}/tier/", {"tier": "gold", "reason": "VIP"}),
    ("/promotions/coupons/{coupon}/end/", {"reason": "发错了"}),
    ("/members/import/", {"store": "S1"}),
    (
        "/whatif/",
        {
            "program": "tiers:\n- {code: normal, name: 普通会员, rank: 0}\n",
            "from": "2026-11-01",
            "to": "2026-11-05",
            "store": "S1",
        },
    ),
    ("/whatif/apply/", {"token": "x", "simulation": "", "confirmed": "1"}),
    ("/whatif/apply/", {"simulation": "1"}),
    ("/whatif/draft/tiers/?editing=gold", {"name": "金卡会员", "discount_retail": "88"}),
    ("/whatif/draft/coupon_templates/?editing=cash20", {"name": "满100减20", "amount": "20"}),
]


def form_posts(world: dict[str, int]) -> list[tuple[str, dict[str, str]]]:
    posts = []
    for url, body in FORMS:
        path = url.format(**world)
        posts.append((path, body))
        for name in body:
            posts += [(path, body | {name: value}) for value in HOSTILE]
    return posts


@pytest.mark.parametrize("role", ["hq", "cashier"])
def test_no_console_form_answers_5xx_to_hostile_input(request, world, role):
    actor: Actor = request.getfixturevalue(role)
    client = logged_in(actor)
    client.raise_request_exception = False
    failures = [
        f"{path} {body} -> {response.status_code}"
        for path, body in form_posts(world)
        if (response := client.post(path, body)).status_code >= 500
    ]
    assert not failures, "\n".join(failures)
