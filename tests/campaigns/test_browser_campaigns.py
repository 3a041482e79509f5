"""Creating and launching a campaign in a real browser at 1366×768 (zh-CN): the editor shows
only the inputs that apply, the audience count follows the filter, the campaign is launched
after a confirmation, the progress bar follows the run by polling and the report is shown.

Everything is real: the launch queues the run's chunks in the job queue, the test then runs
them as `patron worker` would, and the page follows by polling."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from patron.campaigns import services
from patron.campaigns.calendar_views import shifted
from patron.campaigns.models import Campaign, CampaignRun
from tests.campaigns.console_support import MEN, WOMEN, add_people

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("transactional_db"),
]


def run_queued_jobs() -> int:
    """What `patron worker` does: take each queued job and run it."""
    ran = 0
    while (task := HUEY.dequeue()) is not None:
        HUEY.execute(task)
        ran += 1
    return ran


def test_create_launch_and_follow_a_campaign(live_server, page, hq, merchant, screenshot_dir):
    add_people(merchant)
    HUEY.flush()  # this test's jobs only
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
    page.select_option("#id_message_channel", "inbox")
    page.fill("#id_message_text", "{name}，双十二会员日见！")
    page.fill("#id_holdout_percent", "0")  # two members: both reached, none held out
    page.screenshot(path=str(screenshot_dir / "patron-campaign-editor.png"), full_page=True)

    page.click("#campaign-save")
    expect(page.locator("h1")).to_contain_text("双十二会员关怀")
    expect(page.locator(".campaign-status")).to_have_text("草稿")
    campaign = Campaign.objects.get(merchant=merchant)

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#campaign-launch")
    expect(page.locator(".campaign-status").first).to_have_text("进行中")
    expect(page.locator("#campaign-progress")).to_contain_text("已处理 0 / 2 位会员")
    expect(page.locator("#campaign-progress")).to_have_attribute("data-polling", "1")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-running.png"), full_page=True)

    # The worker runs the chunk: both women reached; the page follows by itself (every 2 s).
    assert run_queued_jobs() >= 1
    run = CampaignRun.objects.get(campaign=campaign)
    assert (run.status, run.processed) == (CampaignRun.Status.DONE, 2)
    expect(page.locator("#run-progress")).to_have_attribute("data-status", "done")
    expect(page.locator("#campaign-progress")).to_contain_text("已处理 2 / 2 位会员")
    expect(page.locator("#campaign-progress")).not_to_have_attribute("data-polling", "1")
    page.reload()
    expect(page.locator(".campaign-status").first).to_have_text("已完成")
    expect(page.locator('#campaign-report [data-figure="reached"]')).to_have_text("2")
    expect(page.locator("#message-table")).to_contain_text("李娜，双十二会员日见！")
    expect(page.locator("#uplift-words")).to_contain_text("未保留对照组")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-done.png"), full_page=True)

    page.goto(f"{live_server.url}/campaigns/")
    row = page.locator('#campaign-table tr[data-campaign="双十二会员关怀"]')
    expect(row).to_contain_text("已完成")
    expect(row.locator("td.num").first).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-list.png"), full_page=True)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/preview/")
    page.click("#preview-random")
    expect(page.locator(".message-body")).to_contain_text("，双十二会员日见！")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-preview.png"), full_page=True)

    weekly = services.create_campaign(
        hq,
        {
            "name": "每周一新品",
            "kind": "recurring",
            "audience": {"filter": WOMEN},
            "schedule": {"cron": "0 10 * * 1"},
            "actions": campaign.actions,
        },
    )
    services.launch(hq, weekly)
    first = shifted(timezone.localdate().replace(day=1), 1)
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    page.goto(f"{live_server.url}/campaigns/calendar/?month={first:%Y-%m}")
    expect(page.locator(f'td[data-day="{monday:%Y-%m-%d}"]')).to_contain_text("10:00 每周一新品")
    page.screenshot(path=str(screenshot_dir / "patron-campaign-calendar.png"), full_page=True)
