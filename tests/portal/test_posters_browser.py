"""A store's join poster in a real browser: the QR is drawn large, nothing breaks the
Content-Security-Policy, and the page prints on one sheet without the buttons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_the_poster_prints_on_one_page(live_server, page, hq, stores, screenshot_dir):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/portal/posters/")
    page.click("a[href='/portal/posters/S1/']")
    expect(page.locator("h1")).to_have_text("扫码注册会员")
    box = page.locator("svg.poster-qr").bounding_box()
    assert box is not None and box["width"] >= 300  # 120 mm on screen
    page.screenshot(path=str(screenshot_dir / "portal-poster-a4.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".poster-tools")).to_be_hidden()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = [int(n) for n in re.findall(rb"/Count (\d+)", pdf)]
    assert pages == [1], pages
