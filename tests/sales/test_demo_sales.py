"""The demo merchant comes with a year of sales made through the real checkout service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.demo.services import create_demo
from patron.ledger.selectors import reconcile
from patron.sales.models import MemberPin, MemberStats, Sale
from patron.sales.program import checkout_policy

pytestmark = [pytest.mark.django_db]


def test_the_demo_has_a_year_of_sales_and_a_clean_ledger():
    merchant = create_demo(members=80).merchant
    sales = Sale.objects.filter(merchant=merchant)
    assert sales.count() > 10
    oldest = sales.order_by("occurred_at").first().occurred_at
    assert oldest < timezone.now() - dt.timedelta(days=30)  # history, not just this month
    assert MemberStats.objects.filter(merchant=merchant, visits__gt=0).exists()
    assert reconcile(merchant) == []
    policy = checkout_policy(merchant)
    assert (policy.backdate_days, policy.pin_required_above) == (30, 50000)
    assert MemberPin.objects.filter(merchant=merchant).count() == 3  # PIN 888888 (docs/demo.md)
