"""The console in a real browser: log in, switch language, register a member, find them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.members.models import Member
from patron.members.services import register_member

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def nav_link(page, href: str):
    return page.locator(f'.sidebar a[href="{href}"]')


def test_hq_admin_registers_a_member_and_finds_them(live_server, page, hq, stores, screenshot_dir):
    base = live_server.url
    register_member(hq, {"mobile": "13900139000", "name": "李雷", "store": "S2"})

    log_in(page, base)

    # zh-Hans by default; English after the switch; Chinese again after switching back.
    members_link = nav_link(page, "/members/")
    expect(members_link).to_have_text(re.compile("会员"))
    page.click(".topbar .lang-option[value=en]")
    expect(members_link).to_have_text(re.compile("Members"))
    expect(page.locator(".topbar .lang-option.current")).to_have_text("EN")
    page.click(".topbar .lang-option[value=zh-hans]")
    expect(members_link).to_have_text(re.compile("会员"))
    page.screenshot(path=str(screenshot_dir / "patron-home.png"), full_page=True)

    # A bad mobile: the form comes back with the error next to the mobile input.
    page.goto(f"{base}/members/new/")
    page.fill("#id_mobile", "12345")
    page.fill("#id_name", "韩梅梅")
    page.select_option("#id_store", "S1")
    page.click("#member-form button[type=submit]")
    mobile_error = page.locator("#field-mobile .field-error")
    expect(mobile_error).to_contain_text("请输入有效的中国大陆手机号")
    expect(page.locator("#id_name")).to_have_value("韩梅梅")
    assert not Member.objects.filter(name="韩梅梅").exists()

    # Fixed: registered, and shown on the member's page.
    page.fill("#id_mobile", "138 0013 8000")
    page.click("#member-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("韩梅梅")
    member = Member.objects.get(mobile="13800138000")
    expect(page).to_have_url(f"{base}/members/{member.pk}/")
    expect(page.locator("#member-profile [data-mobile]")).to_have_text("13800138000")

    # Live search by mobile: the table narrows to the new member without a page load.
    page.goto(f"{base}/members/")
    rows = page.locator("#member-table tbody tr")
    expect(rows).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "patron-members.png"), full_page=True)
    page.locator("#id_q").press_sequentially("13800138000", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(member.card_no)
    expect(rows.first).to_contain_text("韩梅梅")
    expect(page).to_have_url(re.compile(r"/members/\?.*q=13800138000"))
