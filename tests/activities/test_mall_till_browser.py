# ruff: noqa: F811
# (the fixtures imported from mall_support are the tests' parameters)
"""A points-mall redemption at the till in a real browser at 1366×768: the cashier finds the
member, opens 积分兑换 from the member card, redeems the mug paying its cash part by WeChat,
and the shift close counts that WeChat money."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.activities.models import MallPayment, Redemption
from patron.ledger.selectors import reconcile
from tests.activities.mall_support import member, points_of, rewards  # noqa: F401
from tests.e2e.test_cashier_browser import log_in_as_cashier

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_the_cashier_redeems_a_mug_at_the_till(
    live_server, page, cashier, member, rewards, screenshot_dir
):
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    page.on("dialog", lambda dialog: dialog.accept())  # the "Redeem 马克杯 for 800 points?" ask
    log_in_as_cashier(page, base)
    expect(page.locator("#scan-input")).to_be_focused()
    # The scan field takes the focus from `autofocus` before the till's deferred script binds F2.
    page.wait_for_load_state("load")
    page.keyboard.press("F2")
    # Typed before F2 has moved the focus, the mobile would go to the scan field.
    expect(page.locator("#member-input")).to_be_focused()
    page.keyboard.type(member.mobile)
    page.keyboard.press("Enter")
    card = page.locator("#member-card")
    expect(card.locator('[data-figure="member-points"]')).to_have_attribute("data-value", "10000")
    button = card.locator("#till-mall")
    expect(button).to_have_text("积分兑换")
    expect(button).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "mall-till-member.png"))

    button.click()
    expect(page).to_have_url(re.compile(r"/activities/mall/redeem/\?member=\d+&from=till$"))
    mug = page.locator('#mall-rewards tr[data-reward="mug"]')
    expect(mug).to_contain_text("马克杯")
    expect(mug).to_contain_text("¥9.90")
    mug.locator("select").select_option("wechat")
    page.screenshot(path=str(screenshot_dir / "mall-till-rewards.png"))
    mug.locator('button[data-action="redeem"]').click()

    expect(page).to_have_url(re.compile(r"/activities/mall/redemptions/\d+/\?from=till$"))
    expect(page.locator('[data-field="status"]')).to_have_text("待处理")
    expect(page.locator('[data-field="cash_paid"]')).to_contain_text("微信支付")
    page.screenshot(path=str(screenshot_dir / "mall-till-done.png"))
    done = Redemption.objects.get()
    assert (done.reward.code, done.member_id, done.points, done.store.code) == (
        "mug",
        member.pk,
        800,
        "S1",
    )
    assert list(MallPayment.objects.values_list("method", "amount")) == [("wechat", 990)]
    assert points_of(member) == 10000 - 800
    assert reconcile(cashier.merchant) == []

    # Back at the till the member card shows the points left; the shift counts the WeChat money.
    page.click("#back-to-till")
    expect(page).to_have_url(f"{base}/cashier/")
    page.goto(f"{base}/shifts/close/")
    expect(page.locator('[data-figure="card-mall"]')).to_have_attribute("data-fen", "990")
    page.screenshot(path=str(screenshot_dir / "mall-shift-close.png"), full_page=True)


def test_the_member_redeems_on_a_phone(browser, live_server, member, rewards, screenshot_dir):
    from tests.portal.test_card_browser import phone_page

    context = phone_page(browser, live_server, member)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/m/mall")
    expect(page.locator("#mall-points")).to_have_text("10,000")
    page.screenshot(path=str(screenshot_dir / "mall-phone-list.png"), full_page=True)
    page.locator('#mall-rewards li[data-reward="mug"] a').click()
    expect(page.locator("#mall-confirm")).to_contain_text("到店领取时支付")
    page.click("#mall-confirm-button")
    expect(page).to_have_url(f"{live_server.url}/m/mall")
    expect(page.locator("#my-redemptions")).to_contain_text("马克杯")
    expect(page.locator("#mall-points")).to_have_text("9,200")
    page.screenshot(path=str(screenshot_dir / "mall-phone-done.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert blocked == []
    context.close()
