"""The demo merchant offers every activity, with a little history made through the services,
so the console's activity pages and the member's card page are not empty."""

from __future__ import annotations

import pytest

from patron.activities.models import CheckIn, Draw, EventSignup, MemberOnlyEvent, Redemption
from patron.demo.services import create_demo
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.portal.activity_selectors import offered
from patron.promotions.models import Promotion

pytestmark = [pytest.mark.django_db]


def test_demo_offers_every_activity_with_some_history():
    demo = create_demo(members=120).merchant
    assert Promotion.objects.get(merchant=demo, code="flash_gift_tea").limits["total"] == 100
    assert Promotion.objects.get(merchant=demo, code="flash_gift_tea").stock.sold > 0
    assert Redemption.objects.filter(merchant=demo).count() > 0
    assert Redemption.objects.filter(merchant=demo, status=Redemption.Status.FULFILLED).exists()
    assert Draw.objects.filter(merchant=demo).count() > 0
    assert CheckIn.objects.filter(merchant=demo).count() > 0
    assert MemberOnlyEvent.objects.filter(merchant=demo).count() == 2
    assert EventSignup.objects.filter(event__merchant=demo).count() > 0
    assert reconcile(demo) == []
    links = offered(Member.objects.filter(merchant=demo).first())
    assert links.mall and links.lottery and links.checkin and links.events
