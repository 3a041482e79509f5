"""A campaign belongs to HQ or to one store (F-41): `owner` in the API body, a store's own
campaign reaches only that store's members, and a store manager runs their store's campaigns
from the console within HQ's limits (`store_activities.campaigns`), never HQ's or another
store's (403, nothing written)."""

from __future__ import annotations

import json

import pytest

from patron.campaigns import services
from patron.campaigns.models import Campaign, Target
from patron.core.errors import ValidationFailed
from patron.program.services import apply_program
from patron.promotions.store_activities import NotYourStore
from patron.tenancy.models import AuditEntry, Role
from tests.campaigns.console_support import WOMEN, add_people, body, logged_in
from tests.conftest import staff_actor

pytestmark = [pytest.mark.django_db]

COUPONS = [
    {
        "code": "hqcup",
        "name": "总部券",
        "benefit": {"type": "fixed", "value": 500},
        "valid_days": 9,
    },
    {
        "code": "s1cup",
        "name": "西湖店券",
        "owner": "S1",
        "benefit": {"type": "fixed", "value": 500},
        "valid_days": 9,
    },
]


def post(api, path: str, data, method: str = "post"):
    return getattr(api, method)(f"/api/v1{path}", json.dumps(data), content_type="application/json")


@pytest.fixture
def allowed(system, stores):
    apply_program(
        system,
        {
            "coupon_templates": COUPONS,
            "store_activities": {"allowed": True, "campaigns": True, "max_live": 3},
        },
    )
    return system


@pytest.fixture
def manager(allowed, stores):
    return staff_actor(allowed, "manager1", Role.STORE_MANAGER, stores["S1"])


def form_data(**changes) -> dict[str, str]:
    data = {
        "name": "西湖店会员日",
        "purpose": "care",
        "kind": "once",
        "owner": "S1",
        "audience_mode": "filter",
        "filter": json.dumps(WOMEN),
        "schedule_mode": "now",
        "message_channel": "inbox",
        "message_text": "{name}，西湖店会员日见",
        "holdout_percent": "0",
    }
    data.update(changes)
    return data


def test_api_owner_round_trip_and_an_unknown_store_is_422(api, stores):
    answer = post(api, "/campaigns", body(owner="S1"))
    assert answer.status_code == 201, answer.content
    campaign_id = answer.json()["id"]
    assert api.get(f"/api/v1/campaigns/{campaign_id}").json()["owner"] == "S1"
    entry = AuditEntry.objects.filter(object_type="campaign", object_id=campaign_id).first()
    assert entry.changes["owner_store"] == [None, "S1"]
    moved = post(api, f"/campaigns/{campaign_id}", {"owner": None}, method="patch")
    assert moved.status_code == 200 and moved.json()["owner"] is None
    assert post(api, "/campaigns", body()).status_code == 201  # no owner: HQ's
    count = Campaign.objects.count()
    bad = post(api, "/campaigns", body(owner="S9"))
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["owner"]
    assert Campaign.objects.count() == count


def test_a_store_campaign_reaches_only_its_store_s_members(
    system, stores, jobs_now, django_capture_on_commit_callbacks
):
    li_na, wang_fang, _zhang = add_people(system.merchant)
    li_na.store = stores["S1"]
    li_na.save()
    wang_fang.store = stores["S2"]
    wang_fang.save()
    campaign = services.create_campaign(system, body(owner="S1"))  # to the women
    with django_capture_on_commit_callbacks(execute=True):
        services.launch(system, campaign)
    assert list(Target.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == [
        li_na.pk
    ]


def test_a_store_manager_creates_their_store_s_campaign(manager, stores):
    add_people(manager.merchant)
    client = logged_in(manager)
    assert client.get("/campaigns/new/").status_code == 200
    response = client.post("/campaigns/new/", form_data())
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(name="西湖店会员日")
    assert campaign.owner_store == stores["S1"]
    assert client.post(f"/campaigns/{campaign.pk}/launch/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.status != Campaign.Status.DRAFT


def test_a_tampered_owner_or_an_hq_coupon_is_refused_and_nothing_is_written(manager):
    client = logged_in(manager)
    for tampered in ({"owner": "S2"}, {"owner": ""}):
        response = client.post("/campaigns/new/", form_data(**tampered))
        assert response.status_code == 200
        assert "owner" in response.context["form"].errors
    # HQ's coupon is not on offer: a tampered choice is refused by the service too.
    with pytest.raises(ValidationFailed) as raised:
        services.create_campaign(
            manager, body(owner="S1", actions=[{"type": "coupon", "template": "hqcup"}])
        )
    assert raised.value.errors[0].field == "actions[0].template"
    with pytest.raises(NotYourStore):
        services.create_campaign(manager, body(owner="S2"))
    assert not Campaign.objects.exists()
    own = services.create_campaign(manager, body(actions=[{"type": "coupon", "template": "s1cup"}]))
    assert own.owner_store.code == "S1"  # left out: their store


def test_hq_and_other_stores_campaigns_are_out_of_reach(manager, system, stores):
    hq_campaign = services.create_campaign(system, body(name="总部活动"))
    s2_campaign = services.create_campaign(system, body(name="滨江店活动", owner="S2"))
    client = logged_in(manager)
    listed = client.get("/campaigns/").content.decode()
    assert "总部活动" in listed and "滨江店活动" not in listed
    assert client.get(f"/campaigns/{s2_campaign.pk}/").status_code == 404
    assert client.get(f"/campaigns/{hq_campaign.pk}/edit/").status_code == 403
    assert client.post(f"/campaigns/{hq_campaign.pk}/launch/").status_code == 403
    assert client.post(f"/campaigns/{hq_campaign.pk}/edit/", form_data()).status_code == 403
    hq_campaign.refresh_from_db()
    assert hq_campaign.status == Campaign.Status.DRAFT and hq_campaign.owner_store is None


def test_max_live_and_hq_switching_campaigns_off(manager, allowed, stores):
    client = logged_in(manager)
    # 西湖店券 is one of the store's 3 live activities: room for two campaigns.
    for number in range(2):
        assert client.post("/campaigns/new/", form_data(name=f"活动{number}")).status_code == 302
    refused = client.post("/campaigns/new/", form_data(name="活动2"))
    assert refused.status_code == 200 and not Campaign.objects.filter(name="活动2").exists()
    apply_program(allowed, {"store_activities": {"allowed": True}})
    assert client.get("/campaigns/new/").status_code == 403
    assert "new-campaign" not in client.get("/campaigns/").content.decode()


def test_hq_sees_every_campaign_with_its_owner_and_filters(hq, system, stores):
    services.create_campaign(system, body(name="总部活动"))
    services.create_campaign(system, body(name="滨江店活动", owner="S2"))
    client = logged_in(hq)
    html = client.get("/campaigns/").content.decode()
    assert "总部活动" in html and "滨江店活动" in html and "滨江店" in html
    only = client.get("/campaigns/?owner=S2").content.decode()
    assert "滨江店活动" in only and "总部活动" not in only
    assert client.get("/campaigns/new/").context["form"].fields["owner"].choices == [
        ("", "总部"),
        ("S1", "西湖店"),
        ("S2", "滨江店"),
    ]


def test_the_editor_s_live_count_is_the_store_s_members(manager, stores):
    li_na, wang_fang, _zhang = add_people(manager.merchant)
    for member, store in ((li_na, stores["S1"]), (wang_fang, stores["S2"])):
        member.store = store
        member.save()
    answer = logged_in(manager).post("/campaigns/audience-count/", form_data())
    assert 'data-count="1"' in answer.content.decode()  # the women of 西湖店: 李娜
