"""Report a card lost and replace it in the console, in a real browser (zh-Hans)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.cards.models import Card
from patron.cards.services import IssueRequest, issue_card
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PROGRAM = {
    "tiers": [{"code": "normal", "name": "普通会员", "rank": 0}],
    "card_products": [{"code": "std", "name": "会员卡", "fee": 1000, "replace_fee": 500}],
}


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def test_report_lost_then_replace_in_the_console(live_server, page, hq, stores, screenshot_dir):
    apply_program(hq, PROGRAM)
    member = register_member(hq, {"mobile": "13800138000", "name": "王芳", "store": "S1"})
    issue_card(hq, member, IssueRequest(product="std", physical_id="MAG-1"), key="issue")
    ledger.top_up(hq, member, 20000, key="fund")
    old = member.card_no
    base = live_server.url
    log_in(page, base)

    # From the member page's Cards panel.
    page.goto(f"{base}/members/{member.pk}/")
    panel = page.locator("#member-cards")
    expect(panel).to_contain_text(old)
    expect(panel).to_contain_text("会员卡")
    panel.locator('[data-action="lost"]').click()
    expect(page.locator("h1")).to_contain_text("挂失")
    page.fill("#id_reason", "丢在出租车上")
    page.click("#wizard-form button[type=submit]")
    expect(page).to_have_url(f"{base}/cards/{old}/")
    expect(page.locator("#card-details [data-status]")).to_have_text("已挂失")
    expect(page.locator("#card-frozen")).to_be_visible()

    page.locator('[data-action="replace"]').click()
    expect(page.locator("#wizard-preview")).to_contain_text("¥5.00")
    page.fill("#id_physical_id", "MAG-2")
    page.select_option("#id_payment_method", "wechat")
    page.click("#wizard-form button[type=submit]")

    new = Member.objects.get(pk=member.pk).card_no
    assert new != old
    expect(page).to_have_url(f"{base}/cards/{new}/")
    expect(page.locator("[data-card-no]")).to_have_text(new)
    expect(page.locator(".alert-success")).to_contain_text(new)
    expect(page.locator("#card-frozen")).to_have_count(0)

    page.goto(f"{base}/cards/{old}/")
    expect(page.locator("#card-details [data-status]")).to_have_text("已补换")
    expect(page.locator("[data-replaced-by]")).to_have_text(new)
    assert Card.objects.get(card_no=old).status == "replaced"
    assert ledger_selectors.member_balances(member)["stored_value"]["principal"] == 20000
    page.goto(f"{base}/members/{member.pk}/")
    expect(page.locator(f'#member-cards [data-card="{new}"]')).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "cards-member-panel.png"), full_page=True)


def test_the_till_finds_a_member_by_physical_card_and_refuses_a_lost_one(
    live_server, browser, hq, cashier, screenshot_dir
):
    apply_program(hq, PROGRAM)
    member = register_member(hq, {"mobile": "13800138000", "name": "王芳", "store": "S1"})
    issue_card(hq, member, IssueRequest(product="std", physical_id="NFC0451"), key="issue")
    lost = register_member(hq, {"mobile": "13900139000", "name": "李雷", "store": "S1"})
    issue_card(hq, lost, IssueRequest(product="std", physical_id="NFC0999"), key="issue-2")
    from patron.cards.services import report_lost

    report_lost(hq, lost.card_no, key="lost")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "cashier1")
    page.fill("#id_password", "password123")
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    page.goto(f"{base}/cashier/")
    page.keyboard.press("F2")
    page.keyboard.type("NFC0451")  # what a card reader types into the member box
    page.keyboard.press("Enter")
    expect(page.locator("#member-card")).to_contain_text("138****8000")
    page.keyboard.press("F2")
    page.keyboard.type("NFC0999")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("挂失：补卡前不能使用")
    page.screenshot(path=str(screenshot_dir / "cards-till-lost.png"))
    context.close()
