"""The browsable API docs render in a real browser from this server's files alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_api_docs_render_every_operation_without_another_host(live_server, page, screenshot_dir):
    foreign: list[str] = []
    base = live_server.url
    page.on("request", lambda r: None if r.url.startswith(base) else foreign.append(r.url))

    page.goto(f"{base}/api/v1/docs")

    # The first request builds the whole OpenAPI document: seconds on a loaded 2-core machine
    # (it missed the default 5 s once while other suites ran beside it).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Patron API", timeout=60_000)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/sales/quote")).to_have_count(1)
    expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)  # the document parsed
    page.screenshot(path=str(screenshot_dir / "api-docs.png"))
    assert foreign == []
