"""The campaign console against the real campaign parts: who may open it, the list with its
filters, the editor (live count, cron preview, every preset, the tier action, service errors
next to their inputs), the campaign page (buttons, progress polling, the report of a real run
in words), the message preview per member and the calendar.

Campaigns are made and launched through the services; launches run their background jobs at
once (`jobs_now` and the commit callbacks), as a worker would.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from patron.campaigns import delivery, journeys, report, services
from patron.campaigns.calendar_views import shifted
from patron.campaigns.channel_program import save as save_channels
from patron.campaigns.models import Campaign, CampaignRun, Message, Target
from patron.promotions.models import Tier
from patron.sales.models import Sale
from tests.campaigns.conftest import make_members
from tests.campaigns.console_support import (
    MEN,
    WOMEN,
    add_people,
    create,
    launched,
    logged_in,
    women_segment,
)
from tests.campaigns.fakes import FakeGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(merchant):
    return add_people(merchant)


@pytest.fixture
def women(merchant, hq):
    return women_segment(merchant)


@pytest.fixture
def sms(merchant):
    """An SMS gateway configured (a local fake): the editor offers the channel."""
    with FakeGateway() as gateway:
        save_channels(merchant, {"sms": gateway.settings()})
        yield gateway


def form_data(**changes) -> dict:
    data = {
        "name": "双十二关怀",
        "purpose": "care",
        "kind": "once",
        "audience_mode": "filter",
        "filter": json.dumps(WOMEN),
        "schedule_mode": "now",
        "message_channel": "sms",
        "message_text": "{name}，您好：双十二会员日见！",
        "holdout_percent": "10",
        "cap_per_7d": "2",
        "quiet_from": "21:00",
        "quiet_to": "09:00",
        "budget": "500",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_roles(hq, marketer, cashier, members):
    campaign = create(hq)
    for actor in (hq, marketer):
        client = logged_in(actor)
        for url in ("/campaigns/", "/campaigns/new/", "/campaigns/calendar/"):
            assert client.get(url).status_code == 200, url
        assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    denied = logged_in(cashier)
    assert denied.get("/campaigns/").status_code == 403
    assert denied.post(f"/campaigns/{campaign.pk}/launch/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_list_shows_names_and_filters_by_status(hq, members):
    draft = create(hq, name="草稿活动", budget_fen=50000)
    Campaign.objects.filter(pk=draft.pk).update(spent_fen=1234)  # what the engine spent
    journey = create(
        hq, name="进行中活动", kind="trigger", trigger={"event": "birthday"}, purpose="promotion"
    )
    services.launch(hq, journey)
    html = logged_in(hq).get("/campaigns/").content.decode()
    assert "草稿活动" in html and "进行中活动" in html
    assert "¥12.34 / ¥500.00" in html
    assert "专享促销" in html and "进行中" in html and "单次" in html
    running = logged_in(hq).get("/campaigns/?status=running").content.decode()
    assert "进行中活动" in running and "草稿活动" not in running
    assert "新建活动" in html


def test_row_audience_size(hq, members):
    campaign = create(hq)
    html = logged_in(hq).get(f"/campaigns/{campaign.pk}/size/").content.decode()
    assert html.strip() == "2"


def test_live_count_follows_the_audience(hq, members, women, sms):
    client = logged_in(hq)
    by_filter = client.post("/campaigns/audience-count/", form_data()).content.decode()
    assert 'data-count="2"' in by_filter
    by_men = client.post("/campaigns/audience-count/", form_data(filter=json.dumps(MEN)))
    assert 'data-count="1"' in by_men.content.decode()
    by_segment = client.post(
        "/campaigns/audience-count/", form_data(audience_mode="segment", segment=str(women.pk))
    )
    assert 'data-count="2"' in by_segment.content.decode()
    unchosen = client.post("/campaigns/audience-count/", form_data(audience_mode="segment"))
    assert 'id="audience-unchosen"' in unchosen.content.decode()  # a hint, not an error
    assert "audience-errors" not in unchosen.content.decode()
    broken = client.post("/campaigns/audience-count/", form_data(filter="{oops"))
    assert 'id="audience-errors"' in broken.content.decode()
    assert "data-count" not in broken.content.decode()
    unknown = {"all": [{"field": "shoe_size", "op": "eq", "value": 42}]}
    wrong = client.post("/campaigns/audience-count/", form_data(filter=json.dumps(unknown)))
    assert 'id="audience-errors"' in wrong.content.decode()
    assert "data-count" not in wrong.content.decode()


def test_cron_preview_lists_five_runs_in_local_time(hq):
    html = logged_in(hq).post("/campaigns/cron-preview/", {"cron": "0 10 * * 1"}).content.decode()
    assert html.count("<li>") == 5
    assert " 10:00" in html and "T10" not in html
    bad = logged_in(hq).post("/campaigns/cron-preview/", {"cron": "61 * * *"}).content.decode()
    assert "五段" in bad and "<li>" not in bad
    never = logged_in(hq).post("/campaigns/cron-preview/", {"cron": "0 0 30 2 *"}).content
    assert 'class="field-error"' in never.decode() and "<li>" not in never.decode()


def test_channels_offered_are_those_configured(hq, merchant):
    choices = logged_in(hq).get("/campaigns/new/").context["form"].fields["message_channel"]
    assert [value for value, _label in choices.choices] == ["", "inbox"]
    save_channels(merchant, {"sms": {"provider": "http", "endpoint": "http://127.0.0.1:9/"}})
    choices = logged_in(hq).get("/campaigns/new/").context["form"].fields["message_channel"]
    assert ("sms", "短信") in choices.choices


def test_create_saves_the_api_body(hq, merchant, members, sms):
    response = logged_in(hq).post("/campaigns/new/", form_data())
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(merchant=merchant)
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.audience == {"filter": WOMEN}
    assert campaign.actions == [
        {"type": "message", "channel": "sms", "template": "{name}，您好：双十二会员日见！"}
    ]
    assert campaign.caps == {"per_member_per_7d": 2}
    assert campaign.quiet_hours == ["21:00", "09:00"]
    assert campaign.budget_fen == 50000
    assert campaign.schedule == {}


def test_schedule_at_is_local_time_with_offset(hq, merchant, members, sms):
    logged_in(hq).post(
        "/campaigns/new/", form_data(schedule_mode="at", schedule_at="2027-12-12T10:00")
    )
    campaign = Campaign.objects.get(merchant=merchant)
    assert campaign.schedule == {"at": "2027-12-12T10:00:00+08:00"}


def test_trigger_and_actions(hq, merchant, members):
    Tier.objects.create(merchant=merchant, code="GOLD", name="金卡", rank=2)
    data = form_data(
        kind="trigger",
        audience_mode="all",
        trigger_event="birthday",
        birthday_calendar="lunar",
        birthday_when="day",
        days_before="3",
        message_channel="inbox",
        message_template="birthday",
        message_text="",
        points="100",
        tier="GOLD",
        task_role="store_manager",
    )
    page = logged_in(hq).get("/campaigns/new/")
    assert ("GOLD", "金卡") in page.context["form"].fields["tier"].choices
    assert 'name="tier"' in page.content.decode()
    response = logged_in(hq).post("/campaigns/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(merchant=merchant)
    assert campaign.audience == {}
    assert campaign.trigger == {
        "event": "birthday",
        "calendar": "lunar",
        "when": "day",
        "days_before": 3,
    }
    assert campaign.actions == [
        {"type": "message", "channel": "inbox", "template": "birthday"},
        {"type": "points", "points": 100},
        {"type": "tier", "tier": "GOLD"},
        {"type": "task", "assignee_role": "store_manager"},
    ]
    form = logged_in(hq).get(f"/campaigns/{campaign.pk}/edit/").context["form"]
    assert form.initial["tier"] == "GOLD" and form.initial["message_template"] == "birthday"


def test_built_in_templates_are_offered_by_name(hq):
    choices = dict(
        logged_in(hq).get("/campaigns/new/").context["form"].fields["message_template"].choices
    )
    assert choices["birthday"] == "生日祝福 · 内置"
    assert choices["win_back"] == "老客召回 · 内置"
    english = logged_in(hq, "en").get("/campaigns/new/").context["form"]
    assert dict(english.fields["message_template"].choices)["birthday"] == (
        "Birthday greeting · built-in"
    )


def test_service_errors_show_next_to_their_inputs(hq, merchant, members, sms):
    response = logged_in(hq).post(
        "/campaigns/new/", form_data(message_text="{nope} 你好", points="5")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["message_text"][0].startswith("未知变量 {nope}")  # no inner path before it
    assert 'class="field-error"' in response.content.decode()
    assert not Campaign.objects.exists()
    nothing = logged_in(hq).post("/campaigns/new/", form_data(message_channel=""))
    assert nothing.context["form"].errors["message_channel"] == ["请至少添加一个动作。"]
    no_tier = logged_in(hq).post("/campaigns/new/", form_data(tier="PLATINUM"))
    assert "PLATINUM" in no_tier.context["form"].errors["tier"][0]
    assert not Campaign.objects.exists()


def test_form_errors_without_the_service(hq, members, sms):
    response = logged_in(hq).post(
        "/campaigns/new/",
        form_data(kind="recurring", cron="", quiet_to="", audience_mode="segment"),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"cron", "quiet_to", "segment"}
    assert 'class="field-error"' in response.content.decode()


def test_edit_shows_the_saved_values(hq, merchant, members, sms):
    campaign = create(
        hq,
        kind="recurring",
        schedule={"cron": "0 10 * * 1"},
        quiet_hours=["22:00", "08:00"],
        budget_fen=12345,
    )
    form = logged_in(hq).get(f"/campaigns/{campaign.pk}/edit/").context["form"]
    assert form.initial["cron"] == "0 10 * * 1"
    assert form.initial["quiet_from"] == "22:00"
    assert form.initial["budget"] == "123.45"
    assert form.initial["message_text"] == "{name}，会员日见"
    response = logged_in(hq).post(
        f"/campaigns/{campaign.pk}/edit/", form_data(kind="recurring", cron="0 9 * * *")
    )
    assert response.status_code == 302, response.context["form"].errors
    campaign.refresh_from_db()
    assert campaign.schedule == {"cron": "0 9 * * *"}
    services.launch(hq, campaign)
    refused = logged_in(hq).get(f"/campaigns/{campaign.pk}/edit/")
    assert refused.status_code == 302


def posted(form) -> dict:
    """The editor's inputs as the browser would post them back (the form's or the field's
    initial value)."""
    data = {}
    for field in form:
        value = field.value()
        if value is None:
            continue
        data[field.name] = (
            value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, dt.datetime) else value
        )
    return data


PRESETS = [p["code"] for p in journeys.journey_presets()]


@pytest.mark.parametrize("code", PRESETS)
def test_every_preset_opens_the_editor_filled_and_saves(hq, merchant, members, women, code):
    preset = next(p for p in journeys.journey_presets() if p["code"] == code)
    client = logged_in(hq)
    page = client.get("/campaigns/new/")
    assert f'data-preset="{code}"' in page.content.decode()
    opened = client.get(f"/campaigns/new/?preset={code}")
    assert preset["description"] in opened.content.decode()
    form = opened.context["form"]
    assert form.initial["name"] == preset["name"] and form.initial["kind"] == preset["kind"]
    assert form.initial["trigger_event"] == preset["trigger"].get("event", "")
    template = preset["actions"][0]["template"]
    assert form.initial["message_template"] == template
    assert template in dict(form.fields["message_template"].choices)
    data = posted(form)
    if preset["kind"] == "once":  # a one-off needs its audience chosen
        data.update(audience_mode="segment", segment=str(women.pk))
    saved = client.post("/campaigns/new/", data)
    assert saved.status_code == 302, saved.context["form"].errors
    campaign = Campaign.objects.get(merchant=merchant)
    assert campaign.trigger == preset["trigger"]
    assert campaign.actions == preset["actions"]
    assert campaign.purpose == preset["purpose"]


def test_launch_then_progress_polls_until_done(
    hq, merchant, members, jobs_now, django_capture_on_commit_callbacks
):
    campaign = create(hq)
    client = logged_in(hq)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-launch"' in page and "data-confirm" in page
    with django_capture_on_commit_callbacks() as queued:  # the chunks, not yet run
        client.post(f"/campaigns/{campaign.pk}/launch/")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    progress = client.get(f"/campaigns/{campaign.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in progress
    assert 'value="0"' in progress and 'max="2"' in progress
    for callback in queued:  # the worker runs the chunks: every woman is reached
        callback()
    run = CampaignRun.objects.get(campaign=campaign)
    assert (run.status, run.processed, run.total) == ("done", 2, 2)
    done = client.get(f"/campaigns/{campaign.pk}/progress/").content.decode()
    assert "every 2s" not in done and "已完成" in done and 'value="2"' in done
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "李娜，会员日见" in page and "王芳，会员日见" in page
    assert 'data-figure="reached">2<' in page


def test_report_of_a_real_run_in_words_and_names(
    hq, marketer, merchant, stores, sms, jobs_now, django_capture_on_commit_callbacks
):
    consenting = make_members(merchant, 30, gender="F", consent_sms=True)
    refusing = make_members(merchant, 6, start=100, gender="F")
    campaign = create(
        hq,
        holdout_percent=20,
        actions=[{"type": "message", "channel": "sms", "template": "{name}，会员日见"}],
    )
    launched(hq, campaign, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.DONE
    targets = {t.member_id: t for t in Target.objects.filter(campaign=campaign)}
    reached = [m for m in consenting if targets[m.pk].outcome == "reached"]
    holdout = [m for m in consenting + refusing if targets[m.pk].group == "holdout"]
    no_consent = [m for m in refusing if targets[m.pk].reason == "consent"]
    assert reached and holdout and no_consent
    assert len(sms.sent) == len(reached)  # the fake gateway got every reached member's SMS
    later = timezone.now() + dt.timedelta(hours=1)
    for number, member in enumerate(reached[:3]):
        Sale.objects.create(
            merchant=merchant,
            member=member,
            store=stores["S1"],
            idempotency_key=f"after-{number}",
            occurred_at=later,
            subtotal=12000,
            discount=0,
            total=12000,
        )
    figures = report.report(campaign)
    assert figures["revenue"] == 36000 and figures["reached"] == len(reached)

    html = logged_in(hq).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-figure="revenue">¥360.00<' in html
    assert f'data-figure="reached">{len(reached)}<' in html
    assert f'data-figure="holdout">{len(holdout)}<' in html
    suppressed = html.split('id="suppressed-table"')[1].split("</table>")[0]
    assert "未授权" in suppressed and "频次上限" in suppressed and "consent" not in suppressed
    treated_rate = 3 / (36 - len(holdout)) * 100
    assert f"{treated_rate:.1f}%" in html.split('id="uplift-words"')[1].split("</p>")[0]
    first = Message.objects.filter(campaign=campaign).select_related("member")[0].member
    assert first.mobile in html  # HQ may see mobiles
    masked = logged_in(marketer).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f"{first.mobile[:3]}****{first.mobile[-4:]}" in masked and first.mobile not in masked
    assert 'id="campaign-pause"' not in html and 'id="campaign-launch"' not in html
    assert Message.objects.filter(campaign=campaign, status="sent").count() == len(reached)


def test_pause_resume_cancel(hq, merchant, members):
    campaign = create(hq, kind="trigger", trigger={"event": "birthday"}, audience={})
    services.launch(hq, campaign)
    client = logged_in(hq)
    for action, status in (("pause", "paused"), ("resume", "running"), ("cancel", "cancelled")):
        client.post(f"/campaigns/{campaign.pk}/{action}/")
        campaign.refresh_from_db()
        assert campaign.status == status
    refused = client.post(f"/campaigns/{campaign.pk}/resume/", follow=True).content.decode()
    assert "状态为“已取消”的营销活动不能" in refused
    assert client.post(f"/campaigns/{campaign.pk}/explode/").status_code == 404


def test_preview_per_member_masked(marketer, hq, merchant, members, sms):
    campaign = create(
        hq, actions=[{"type": "message", "channel": "sms", "template": "{name}，会员日见"}]
    )
    client = logged_in(marketer)
    found = client.get(f"/campaigns/{campaign.pk}/preview/?q=李娜").content.decode()
    assert "138****8001" in found and "13800138001" not in found
    shown = client.get(f"/campaigns/{campaign.pk}/preview/?member={members[0].pk}").content.decode()
    assert "李娜，会员日见回T退订" in shown
    random = client.get(f"/campaigns/{campaign.pk}/preview/?random=1").content.decode()
    assert "，会员日见回T退订" in random and "张伟" not in random


def test_preview_of_a_built_in_template_with_sample_values(hq, merchant, members):
    campaign = create(
        hq,
        kind="trigger",
        trigger={"event": "points.expiring", "days": 7},
        audience={},
        actions=[{"type": "message", "channel": "inbox", "template": "points_expiring"}],
    )
    html = logged_in(hq).get(f"/campaigns/{campaign.pk}/preview/?member={members[0].pk}")
    text = html.content.decode()
    in_a_week = timezone.localdate() + dt.timedelta(days=7)
    assert "李娜，您有1280积分将于" in text and "到期" in text
    assert in_a_week.isoformat() not in text  # a date as people write it, not ISO
    assert f"{in_a_week.month}月{in_a_week.day}日" in text


def test_calendar_month_grid(hq, merchant):
    first = shifted(timezone.localdate().replace(day=1), 1)
    add_people(merchant, birthday_month=first.month, status="active")
    month = first.strftime("%Y-%m")
    weekly = create(hq, name="每周一推送", kind="recurring", schedule={"cron": "0 10 * * 1"})
    at = dt.datetime(first.year, first.month, 12, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    one_off = create(hq, name="会员日晚场", schedule={"at": at.isoformat()})
    birthday = create(
        hq, name="生日关怀", kind="trigger", trigger={"event": "birthday"}, audience={}
    )
    create(hq, name="草稿不上日历", schedule={"at": (at + dt.timedelta(days=1)).isoformat()})
    for campaign in (weekly, one_off, birthday):
        services.launch(hq, campaign)
    html = logged_in(hq).get(f"/campaigns/calendar/?month={month}").content.decode()
    mondays = sum(
        1 for day in range(1, 32) if _valid(first, day) and first.replace(day=day).weekday() == 0
    )
    assert html.count("每周一推送") == mondays
    day12 = html.split(f'data-day="{month}-12"')[1].split("</td>")[0]
    assert "20:00 会员日晚场" in day12
    day11 = html.split(f'data-day="{month}-11"')[1].split("</td>")[0]
    assert "1 位生日" in day11
    assert "草稿不上日历" not in html
    fallback = logged_in(hq).get("/campaigns/calendar/?month=junk")
    assert fallback.status_code == 200


def _valid(first: dt.date, day: int) -> bool:
    try:
        first.replace(day=day)
    except ValueError:
        return False
    return True


def test_pages_in_english(hq, merchant, members):
    campaign = create(
        hq, kind="trigger", trigger={"event": "birthday"}, audience={}, holdout_percent=10
    )
    services.launch(hq, campaign)
    delivery.contact(campaign, [members[0].pk], occurrence="birthday:2026")
    client = logged_in(hq, "en")
    assert "New campaign" in client.get("/campaigns/").content.decode()
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "No consent" in page and "Frequency cap" in page
    assert "Not enough members yet to compare with the holdout." in page
    kept_none = create(hq, name="No holdout", kind="trigger", trigger={"event": "birthday"})
    services.launch(hq, kept_none)
    other = client.get(f"/campaigns/{kept_none.pk}/").content.decode()
    assert "No holdout was kept, so the effect cannot be measured." in other
    assert "Mon" in client.get("/campaigns/calendar/").content.decode()
    editor = client.get("/campaigns/new/?preset=birthday").content.decode()
    assert "Birthday greeting" in editor and "Complaint recorded" in editor


def test_built_in_template_names_in_the_pages_language(hq, merchant, members):
    html = logged_in(hq).get("/message-templates/").content.decode()
    assert "生日祝福" in html and "Birthday greeting" not in html
    english = logged_in(hq, "en").get("/message-templates/").content.decode()
    assert "Birthday greeting" in english and "生日祝福" not in english
    journey = create(hq, kind="trigger", trigger={"event": "birthday"}, audience={})
    services.launch(hq, journey)
    delivery.contact(journey, [members[0].pk], occurrence="birthday:2026")
    panel = logged_in(hq).get(f"/members/{members[0].pk}/").content.decode()
    block = panel.split('id="member-messages"')[1].split("</ul>")[0]
    assert "李娜，会员日见" in block and "站内信" in block and "<td" not in block


def test_calendar_names_the_birthday_journeys_in_chinese(hq, merchant, members):
    for name in ("生日祝福", "农历生日"):
        journey = create(hq, name=name, kind="trigger", trigger={"event": "birthday"})
        services.launch(hq, journey)
    html = logged_in(hq).get("/campaigns/calendar/").content.decode()
    line = html.split('id="birthday-journeys"')[1].split("</p>")[0]
    assert "，" in line and "。" in line and ". " not in line
