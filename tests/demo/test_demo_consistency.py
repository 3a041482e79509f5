"""The demo merchant looks like a real one (issue 14, item 8): regions whose city is in its
province, names that match the gender, sales in opening hours, points worth earning, and
members with stored value and the demo PIN 888888 who can pay with it at once."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.test import Client
from faker.providers.person.zh_CN import Provider as ChineseNames

from patron.core.errors import DomainError
from patron.demo.data import DEMO_PIN, REGIONS, RESTAURANT_CATEGORIES, RESTAURANT_HOURS
from patron.demo.network import RECRUITS
from patron.demo.selectors import print_logins
from patron.demo.services import create_demo
from patron.ledger.services import policy_for, quick_balances
from patron.members.models import Gender, Member
from patron.members.validation import mask_mobile
from patron.sales import services as sales
from patron.sales.models import MemberPin, Sale
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_api_key

pytestmark = [pytest.mark.django_db]
NETWORK_RECRUITS = sum(last + this for _store, last, this in RECRUITS)


@pytest.fixture
def demo():
    return create_demo(members=120).merchant


def split_region(region: str) -> tuple[str, str]:
    for province in REGIONS:
        if region.startswith(province):
            return province, region[len(province) :] or province
    raise AssertionError(f"{region}: no province of REGIONS")


def test_every_members_city_is_in_its_province(demo):
    # The members the store staff recruit for the network's figures (demo.network) give only
    # a mobile and a name, as at the counter.
    members = Member.objects.filter(merchant=demo)
    assert members.filter(recruited_by__isnull=False).count() == NETWORK_RECRUITS
    regions = members.filter(recruited_by__isnull=True).values_list("region", flat=True)
    assert len(regions) == 120
    for region in regions:
        province, city = split_region(region)
        assert city in REGIONS[province], region
    assert len({split_region(r)[0] for r in regions}) > 3  # not all from one province


def given_name(name: str) -> str:
    """The name without its family name (the longest family name that starts it)."""
    families = sorted((f for f in ChineseNames.last_names if name.startswith(f)), key=len)
    assert families, name
    return name[len(families[-1]) :]


def test_names_match_the_gender(demo):
    male, female = set(ChineseNames.first_names_male), set(ChineseNames.first_names_female)
    members = Member.objects.filter(merchant=demo)
    for member in members.filter(gender=Gender.MALE):
        assert given_name(member.name) in male, member.name
    for member in members.filter(gender=Gender.FEMALE):
        assert given_name(member.name) in female, member.name
    assert members.filter(gender=Gender.MALE).exists()
    assert members.filter(gender=Gender.FEMALE).exists()


def in_restaurant_hours(moment: dt.time) -> bool:
    return any(dt.time(*start) <= moment <= dt.time(*end) for start, end in RESTAURANT_HOURS)


def test_restaurant_sales_fall_in_its_opening_hours(demo):
    zone = zoneinfo.ZoneInfo(demo.timezone)
    restaurant = 0
    for sale in Sale.objects.filter(merchant=demo).prefetch_related("lines"):
        if {line.category for line in sale.lines.all()} & RESTAURANT_CATEGORIES:
            restaurant += 1
            local = sale.occurred_at.astimezone(zone).time()
            assert in_restaurant_hours(local), (sale.pk, local)
    assert restaurant > 10
    # Rooms alone sell at any hour: some of them at night.
    assert Sale.objects.filter(merchant=demo, member__isnull=True).exists()  # walk-in guests


def test_points_are_one_per_yuan_and_a_hundred_take_a_yuan_off(demo):
    points = policy_for(demo).points_policy()
    assert points["earn"] == {"per_amount": 100, "points": 1}
    assert (points["redeem_cash"]["points"], points["redeem_cash"]["value"]) == (100, 100)
    sale = Sale.objects.filter(merchant=demo, member__isnull=False, points_earned__gt=0).first()
    assert sale.points_earned >= sale.total // 100 // 2  # about a point per yuan, not per 100


def test_three_members_with_stored_value_pay_with_the_demo_pin_at_once(demo):
    assert DEMO_PIN == "888888"
    pins = MemberPin.objects.filter(merchant=demo).select_related("member")
    assert pins.count() == 3
    actor = Actor.system(demo)
    for pin in pins:
        member = pin.member
        held = quick_balances(member)
        value = held["stored_value.principal"] + held["stored_value.bonus"]
        assert value > 50000  # more than a payment may take without the PIN
        request = sales.SaleRequest(
            lines=[
                sales.LineInput(
                    sku="ROOM-STD",
                    name="湖景标准间",
                    category="rooms",
                    quantity=3,  # still above 600 yuan at gold's member price (8折)
                    unit_price=32000,
                )
            ],
            member=member.pk,
            store="S1",
            stored_value=min(value, 60000),
        )
        with pytest.raises(DomainError):  # above the threshold, without the PIN: refused
            sales.commit_sale(actor, request, key=f"no-pin-{member.pk}")
        request.pin = DEMO_PIN
        sale = sales.commit_sale(actor, request, key=f"pin-{member.pk}")
        assert sale.stored_value_paid == min(value, 60000)


def test_the_demo_logins_name_the_pin_members_masked(demo):
    out = io.StringIO()
    print_logins(out, "http://127.0.0.1:8000/")
    text = out.getvalue()
    assert "888888" in text
    for pin in MemberPin.objects.filter(merchant=demo).select_related("member"):
        assert mask_mobile(pin.member.mobile) in text and pin.member.card_no in text
        assert pin.member.mobile not in text


def test_a_member_or_cashier_still_cannot_choose_one_digit_repeated(demo):
    member = MemberPin.objects.filter(merchant=demo).first().member
    with pytest.raises(DomainError):
        sales.set_pin(Actor.system(demo), member, "888888")
    key = create_api_key(Actor.system(demo))[1]
    response = Client(headers={"Authorization": f"Bearer {key}"}).put(
        f"/api/v1/members/{member.pk}/pin", {"pin": "888888"}, content_type="application/json"
    )
    assert response.status_code == 422, response.content


def test_todays_shift_holds_only_todays_demo_sales(demo):
    """A year of demo history is dated as rung up when sold: a cashier's 交班 today counts
    today's sales, not the year's."""
    from patron.sales.models import Sale
    from patron.shifts import selectors as shifts
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Staff

    cashier = Staff.objects.get(merchant=demo, user__username="s1.cashier")
    window = shifts.open_window(Actor.system(demo), cashier.user, cashier.store)
    today = Sale.objects.filter(user=cashier.user, occurred_at__gte=window.started_at)
    assert Sale.objects.filter(user=cashier.user).count() > today.count()
    figures = shifts.figures(demo, cashier.store, cashier.user, window.started_at)
    assert figures.sales_count == today.count()
