"""The audit log in words: every action the services write reads as a sentence with names and
local times, never raw codes (`tags`, `normal→silver`, `store_id`) or ISO timestamps."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patron.ledger import services as ledger
from patron.members.exporting import export_members
from patron.members.importing.service import import_members
from patron.members.services import (
    define_custom_field,
    record_personal_data_view,
    register_member,
    update_member,
)
from patron.program.services import apply_program
from patron.promotions.services import end_coupon, issue_coupon, set_member_tier
from patron.tenancy import services as tenancy
from patron.tenancy.models import AuditEntry, Role
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
    ],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        },
    ],
}
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Raw codes and keys that must never reach the page.
RAW = [
    "normal",
    "silver",
    "cash20",
    "store_id",
    "full_name",
    "failed_logins",
    "locked_until",
    "points adjustment",
    "file_name",
    "rows_read",
    "skipped_existing",
    "unmasked",
    "clothing_size",
    "None",
    "Member export",
]


@pytest.fixture
def everything(hq, system, stores, tmp_path):
    """One entry of every kind the services write."""
    apply_program(system, PROGRAM)
    member = register_member(hq, {"mobile": "13800138000", "name": "王小明", "tags": ["商务"]})
    define_custom_field(hq, "clothing_size", "衣服尺码", "text")
    update_member(
        hq,
        member,
        {"region": "浙江杭州", "store": "S2", "tags": ["亲子"], "custom": {"clothing_size": "L"}},
    )
    record_personal_data_view(hq, member)
    set_member_tier(hq, member, "silver", reason="VIP")
    coupon = issue_coupon(hq, member, "cash20")
    end_coupon(hq, coupon, reason="发错了")
    ledger.adjust_points(hq, member, 50, reason="补录", key="adjust")
    export_members(hq, io.StringIO(), fmt="csv")
    sheet = tmp_path / "members.csv"
    sheet.write_text("手机号,姓名\n13900139000,李雷\n", encoding="utf-8")
    import_members(hq, sheet, file_name="members.csv", dry_run=False, default_store="S1")
    store = tenancy.create_store(hq, "S9", "湖滨快闪店")
    tenancy.update_store(hq, store, address="北山街 1 号")
    tenancy.update_store(hq, store, is_active=False)
    staff = tenancy.create_staff(hq, "li", "password123", Role.CASHIER, stores["S1"], "李收银")
    tenancy.update_staff(hq, staff, full_name="李小银", store=stores["S2"])
    until = timezone.now() + dt.timedelta(minutes=30)
    tenancy.audit_lockout(staff, "10.0.0.9", until, 5)
    tenancy.update_staff(hq, staff, is_active=False)
    key, _plain = tenancy.create_api_key(hq, "收银机 POS-1")
    tenancy.revoke_api_key(hq, key)
    return {"member": member, "coupon": coupon, "until": until}


def audit_table(client, **params) -> str:
    """The log's text, without the program revisions' rows: their changes are words written
    when the program was applied, naming each rule by its code and name ("added Tiers normal
    普通会员"), which is what a revision is about."""
    html = client.get("/audit/", params).content.decode()
    table = html[html.index('id="audit-table"') : html.index("</table>")]
    rows = [row for row in table.split("<tr") if "data-revision" not in row]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr".join(rows)))


def test_every_action_written_is_covered(everything):
    written = set(AuditEntry.objects.values_list("object_type", "action"))
    assert written >= {
        ("merchant", "create"),
        ("merchant", "export"),
        ("member", "create"),
        ("member", "update"),
        ("member", "view"),
        ("customfield", "create"),
        ("importbatch", "import"),
        ("coupon", "create"),
        ("coupon", "update"),
        ("transaction", "create"),
        ("store", "create"),
        ("store", "update"),
        ("store", "delete"),
        ("staff", "create"),
        ("staff", "update"),
        ("staff", "lockout"),
        ("staff", "delete"),
        ("apikey", "create"),
        ("apikey", "delete"),
    }


def test_the_english_log_reads_as_sentences_with_names(hq, everything):
    text = audit_table(logged_in(hq, "en"))
    card = everything["member"].card_no
    until = everything["until"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    for sentence in (
        f"Registered the member 王小明 (card {card})",
        f"Changed the member 王小明 (card {card})",
        f"Viewed the full mobile and ID number of 王小明 (card {card})",
        f"Moved 王小明 (card {card}) to the tier 银卡会员",
        f"Issued the coupon 满100减20 to 王小明 (card {card})",
        "Withdrew the coupon 满100减20",
        f"Adjusted the points of 王小明 (card {card}) by 50",
        "Exported 1 members as CSV",
        "Imported 1 members from members.csv",
        "Defined the custom field 衣服尺码",
        "Opened the store 湖滨快闪店",
        "Changed the store 湖滨快闪店",
        "Closed the store 湖滨快闪店",
        "Created the staff account 李小银",
        "Changed the staff account 李小银",
        f"Locked the log-in of 李小银 until {until} after 5 failed attempts",
        "Deactivated the staff account 李小银",
        "Created the API key 收银机 POS-1",
        "Revoked the API key 收银机 POS-1",
        # Changes by their labels and names.
        "tier: 普通会员 → 银卡会员",
        "store: 滨江店",
        "tags: 商务 → 亲子",
        "custom fields: 衣服尺码: L",
        "full name: 李收银 → 李小银",
        "coupon template: 满100减20",
    ):
        assert sentence in text, sentence
    assert not ISO_TIME.search(text)
    for raw in RAW:
        assert raw not in text, raw


def test_the_chinese_log_says_it_in_chinese(hq, everything):
    text = audit_table(logged_in(hq, "zh-hans"))
    card = everything["member"].card_no
    for sentence in (
        f"登记了会员 王小明（卡号 {card}）",
        f"将 王小明（卡号 {card}） 调整为 银卡会员",
        f"向 王小明（卡号 {card}） 发放了优惠券 满100减20",
        f"调整了 王小明（卡号 {card}） 的积分：50",
        "导出了 1 位会员（CSV）",
        "新开门店 湖滨快闪店",
        "李小银 连续 5 次登录失败，登录锁定至",
        "吊销了 API 密钥 收银机 POS-1",
        "等级: 普通会员 → 银卡会员",
    ):
        assert sentence in text, sentence
    assert not ISO_TIME.search(text)
    for raw in RAW:
        assert raw not in text, raw


@pytest.mark.parametrize("action", [choice for choice, _label in AuditEntry.Action.choices])
def test_each_action_alone_renders_without_codes(hq, everything, action):
    """The log filtered to one action at a time (so no other entry hides a raw code)."""
    for language in ("en", "zh-hans"):
        text = audit_table(logged_in(hq, language), action=action)
        assert not ISO_TIME.search(text)
        for raw in RAW:
            assert raw not in text, (action, language, raw)


def test_the_member_page_history_uses_the_same_sentences(hq, everything):
    member = everything["member"]
    html = logged_in(hq, "en").get(f"/members/{member.pk}/").content.decode()
    assert f"Moved 王小明 (card {member.card_no}) to the tier 银卡会员" in html


def test_prices_show_in_yuan_and_categories_by_name(hq, system):
    """Entries of the apps to come (a price typed at the till, a product's category) read
    the same way: fen as yuan, category codes as their names."""
    from patron.program.models import Category
    from patron.tenancy.services import audit

    apply_program(system, {"categories": ["rooms"]})
    category = Category.objects.get(code="rooms")
    audit(hq, AuditEntry.Action.UPDATE, category, {"unit_price": [32000, 30000]})
    audit(hq, AuditEntry.Action.UPDATE, category, {"category": ["rooms", "rooms"]})
    text = audit_table(logged_in(hq, "en"))
    assert "¥320.00 → ¥300.00" in text
    shown = getattr(category, "name", "") or "rooms"  # the catalogue names categories
    assert f"category: {shown} → {shown}" in text


def test_a_program_revision_reads_as_a_sentence(hq, everything):
    html = logged_in(hq, "en").get("/audit/", {"object_type": "programrevision"}).content.decode()
    assert "Applied the program revision #" in html
    assert "changes:" in html and not ISO_TIME.search(html)
