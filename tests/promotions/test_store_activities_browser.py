"""A store manager's promotion editor in a real browser at 1366×768: HQ's promotion is shown
read-only, the form offers their store alone as the owner, ¥60 off beyond HQ's ¥50 limit is an
error on the amount, ¥30 off is saved as the store's own and listed with the store's name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.program.services import apply_program, export_program
from patron.tenancy.models import Role
from tests.conftest import staff_actor

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PROGRAM = {
    "categories": ["dishes", "drinks"],
    "tiers": [{"code": "normal", "name": "普通会员", "rank": 0}],
    "promotions": [
        {
            "code": "hq10",
            "name": "总部九折",
            "kind": "automatic",
            "benefit": {"type": "percent", "value": 10},
        }
    ],
    "store_activities": {"allowed": True, "max_percent_off": 20, "max_amount_off": 5000},
}


def test_a_store_manager_creates_their_store_s_promotion_within_hq_s_limits(
    live_server, page, system, stores, screenshot_dir
):
    apply_program(system, PROGRAM)
    staff_actor(system, "mgr", Role.STORE_MANAGER, stores["S1"])
    page.set_viewport_size({"width": 1366, "height": 768})
    base = live_server.url
    log_in(page, base, "mgr")
    page.goto(f"{base}/promotions/")
    hq_row = page.locator('tr[data-promotion="hq10"]')
    expect(hq_row).to_contain_text("总部")
    expect(hq_row).to_contain_text("只读")
    expect(hq_row.locator("text=编辑")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "store-manager-overview-before.png"))

    page.click("text=新建促销")
    expect(page).to_have_url(f"{base}/promotions/promotions/new/")
    owner = page.locator("#id_owner option")
    expect(owner).to_have_count(1)
    expect(owner).to_have_text("西湖店")
    page.fill("#id_name", "西湖店立减")
    page.fill("#id_code", "S1OFF")
    page.select_option("#id_benefit_type", "fixed")
    page.fill("#id_amount", "60")
    page.click("#rule-form button[type=submit]")
    error = page.locator("#rule-form .field-error", has_text="¥50.00")
    expect(error).to_be_visible()
    expect(error).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "store-manager-editor-beyond-limit.png"))
    assert "S1OFF" not in [p["code"] for p in export_program(system)["promotions"]]

    page.fill("#id_amount", "30")
    page.click("#rule-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/promotions/#promotions$"))
    row = page.locator('tr[data-promotion="S1OFF"]')
    expect(row).to_contain_text("西湖店")
    expect(row.locator("text=编辑")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "store-manager-overview-after.png"), full_page=True)
    saved = next(p for p in export_program(system)["promotions"] if p["code"] == "S1OFF")
    assert saved["owner"] == "S1" and saved["condition"] == {"stores": ["S1"]}


def test_hq_sees_the_owner_column_and_filter_and_a_store_manager_s_campaign_editor(
    live_server, page, system, stores, screenshot_dir
):
    apply_program(
        system,
        {
            **PROGRAM,
            "promotions": [
                *PROGRAM["promotions"],
                {
                    "code": "s2own",
                    "name": "滨江店自营",
                    "owner": "S2",
                    "kind": "automatic",
                    "condition": {"stores": ["S2"]},
                    "benefit": {"type": "percent", "value": 5},
                },
            ],
            "store_activities": {"allowed": True, "campaigns": True},
        },
    )
    staff_actor(system, "boss", Role.HQ_ADMIN)
    staff_actor(system, "mgr", Role.STORE_MANAGER, stores["S1"])
    page.set_viewport_size({"width": 1366, "height": 768})
    base = live_server.url
    log_in(page, base, "boss")
    page.goto(f"{base}/promotions/")
    expect(page.locator('tr[data-promotion="s2own"] [data-owner]')).to_have_text("滨江店")
    page.select_option("#owner", "S2")
    page.click("#owner-filter button[type=submit]")
    expect(page.locator("tr[data-promotion]")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "hq-promotions-owner-filter.png"))

    page.context.clear_cookies()
    log_in(page, base, "mgr")
    page.goto(f"{base}/campaigns/new/")
    owner = page.locator("#id_owner option")
    expect(owner).to_have_count(1)
    expect(owner).to_have_text("西湖店")
    page.screenshot(path=str(screenshot_dir / "store-manager-campaign-editor.png"))


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
