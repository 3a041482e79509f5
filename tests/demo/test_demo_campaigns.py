"""The demo's campaigns (issue 17): two running journeys, next week's promotion waiting for
the scheduler, and a one-off sent two weeks ago whose page shows its report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patron.campaigns import report
from patron.campaigns.models import Campaign, MessageTemplate
from patron.demo.services import create_demo
from patron.tenancy.models import Staff

pytestmark = [pytest.mark.django_db]


def test_demo_campaigns_and_a_real_report():
    merchant = create_demo(members=150).merchant
    campaigns = {c.name: c for c in Campaign.objects.filter(merchant=merchant)}
    assert campaigns["生日祝福"].status == "running"
    assert campaigns["生日祝福"].trigger["event"] == "birthday"
    assert campaigns["沉睡会员唤醒"].trigger == {"event": "lifecycle.changed", "to": "dormant"}
    promotion = campaigns["会员日专享礼遇"]
    assert promotion.status == "scheduled"
    local = timezone.localtime(promotion.next_run_at)
    assert local.hour == 10 and local.date() == timezone.localdate() + dt.timedelta(days=7)
    assert MessageTemplate.objects.filter(merchant=merchant).count() == 3

    sent = campaigns["春季新菜上市通知"]
    assert sent.status == "done"
    run = sent.runs.get()
    assert run.status == "done" and run.processed == run.total > 0
    figures = report.report(sent)
    assert figures["targeted"] == run.total
    assert figures["reached"] + figures["holdout"] == figures["targeted"]
    assert figures["reached"] > 0

    client = Client()
    client.force_login(Staff.objects.get(merchant=merchant, role="hq_admin").user)
    html = client.get(f"/campaigns/{sent.pk}/").content.decode()
    assert f'data-figure="reached">{figures["reached"]}<' in html
    assert "春季新菜上市" in html.split('id="message-table"')[1]
