"""Creating and launching a campaign in a real browser at 1366×768 (zh-CN): the editor shows
only the inputs that apply, the audience count follows the filter, the campaign is launched
after a confirmation, the progress bar follows the run by polling and the report is shown.

The engine / journeys / channels functions are stood in by `console_support.engine_parts`
(the live server runs in this process, so the monkeypatch reaches it)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from playwright.sync_api import expect

from patron.campaigns.models import Campaign, CampaignRun
from patron.members.models import Member
from tests.campaigns.console_support import engine_parts  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db"),
]

WOMEN = {"all": [{"field": "gender", "op": "eq", "value": "F"}]}
MEN = {"all": [{"field": "gender", "op": "eq", "value": "M"}]}


def add_members(merchant) -> None:
    for number, (name, gender) in enumerate((("李娜", "F"), ("王芳", "F"), ("张伟", "M")), 1):
        Member.objects.create(
            merchant=merchant,
            name=name,
            gender=gender,
            card_no=f"C{number:04d}",
            mobile=f"1380013800{number}",
            referral_code=f"REF{number}",
            joined_at=dt.datetime(2025, 1, number, tzinfo=dt.UTC),
        )


def test_create_launch_and_follow_a_campaign(live_server, page, hq, merchant, screenshot_dir):
    add_members(merchant)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/campaigns/")
    expect(page.locator("#campaign-table")).to_contain_text("还没有活动")
    page.click("#new-campaign")
    expect(page.locator("h1")).to_have_text("新建活动")
    # A one-off campaign: no trigger inputs; the schedule's date only once "at a time" is chosen.
    expect(page.locator("#trigger-box")).to_be_hidden()
    expect(page.locator("#field-schedule_at")).to_be_hidden()
    expect(page.locator("input[name=audience_mode][value=all]")).to_be_hidden()
    page.select_option("#id_kind", "trigger")
    expect(page.locator("#trigger-box")).to_be_visible()
    expect(page.locator("#schedule-box")).to_be_hidden()
    page.select_option("#id_trigger_event", "birthday")
    expect(page.locator("#id_birthday_calendar")).to_be_visible()
    expect(page.locator("#id_lifecycle_to")).to_be_hidden()
    page.select_option("#id_kind", "once")
    expect(page.locator("#trigger-box")).to_be_hidden()

    page.fill("#id_name", "双十二会员关怀")
    page.check("input[name=audience_mode][value=filter]")
    page.fill("#id_filter", json.dumps(MEN))
    expect(page.locator("#audience-count")).to_have_attribute("data-count", "1")
    page.fill("#id_filter", json.dumps(WOMEN))
    expect(page.locator("#audience-count")).to_have_attribute("data-count", "2")
    page.select_option("#id_message_channel", "sms")
    page.fill("#id_message_text", "{name}，双十二会员日见！")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-editor.png"), full_page=True)

    page.click("#campaign-save")
    expect(page.locator("h1")).to_contain_text("双十二会员关怀")
    expect(page.locator(".campaign-status")).to_have_text("草稿")
    campaign = Campaign.objects.get(merchant=merchant)

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#campaign-launch")
    expect(page.locator(".campaign-status").first).to_have_text("进行中")
    expect(page.locator("#campaign-progress")).to_contain_text("已处理 0 / 2 位会员")
    expect(page.locator("#campaign-report")).to_contain_text("未授权")
    expect(page.locator("#uplift-words")).to_contain_text("活动确有效果")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-running.png"), full_page=True)

    # The sending job finishes the run; the page follows by itself (htmx polls every 2 s).
    CampaignRun.objects.filter(campaign=campaign).update(
        processed=2, status=CampaignRun.Status.DONE
    )
    expect(page.locator("#run-progress")).to_have_attribute("data-status", "done")
    expect(page.locator("#campaign-progress")).to_contain_text("已处理 2 / 2 位会员")
    expect(page.locator("#campaign-progress")).not_to_have_attribute("data-polling", "1")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-done.png"), full_page=True)

    page.goto(f"{live_server.url}/campaigns/")
    row = page.locator('#campaign-table tr[data-campaign="双十二会员关怀"]')
    expect(row).to_contain_text("进行中")
    expect(row.locator("td.num").first).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-list.png"), full_page=True)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/preview/")
    page.click("#preview-random")
    expect(page.locator(".message-body")).to_contain_text("，双十二会员日见！ 回T退订")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-preview.png"), full_page=True)

    Campaign.objects.create(
        merchant=merchant,
        name="每周一新品",
        kind=Campaign.Kind.RECURRING,
        status=Campaign.Status.SCHEDULED,
        schedule={"cron": "0 10 * * 1"},
        actions=campaign.actions,
    )
    page.goto(f"{live_server.url}/campaigns/calendar/?month=2026-12")
    expect(page.locator('td[data-day="2026-12-07"]')).to_contain_text("10:00 每周一新品")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-calendar.png"), full_page=True)
