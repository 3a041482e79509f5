"""The console's what-if page (/whatif/, issue 22 item 4): a draft replayed next to the current
program, figures worked by hand; a long range as a job; the draft applied as one audited
program revision after a confirm step, refused when the program moved since the replay."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client

from patron.members.models import Member
from patron.program.models import ProgramRevision
from patron.program.services import apply_program, dump_yaml
from patron.promotions.models import Promotion, Tier
from patron.promotions.services import set_member_tier
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.whatif import jobs
from patron.whatif import services as whatif
from patron.whatif.forms import DRAFTED_SECTIONS
from patron.whatif.models import Simulation
from tests.console.conftest import logged_in
from tests.whatif.support import draft, member, sell, setup, tiers_with, today

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def shop(system, stores):
    setup(system)
    return system


@pytest.fixture
def gold_room(shop):
    """A gold member bought a 1,000 yuan room: 800 yuan at gold's 80% (1.5x points: 1,200)."""
    gold = member(shop, "13800138001")
    set_member_tier(shop, gold, "gold", reason="VIP")
    sell(shop, gold, [("ROOM", "rooms", 100000)], "s1")
    return gold


def gold_at_88(system: Actor) -> str:
    """The drafted sections with gold's rooms at 88% instead of 80%, as the textarea has them."""
    document = draft(system, tiers=tiers_with(system, "gold", discount={"rooms": 88, "dishes": 90}))
    return dump_yaml({name: document[name] for name in DRAFTED_SECTIONS})


def short_range() -> dict[str, str]:
    day = today()
    return {"from": (day - dt.timedelta(days=30)).isoformat(), "to": day.isoformat()}


def long_range() -> dict[str, str]:
    """Sixty days up to today (the default year ends yesterday, before the tests' sales)."""
    day = today()
    return {"from": (day - dt.timedelta(days=60)).isoformat(), "to": day.isoformat()}


def figure_row(page: str, key: str) -> str:
    found = re.search(rf'<tr data-figure="{key}">(.*?)</tr>', page, re.S)
    assert found, key
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def chart_spec(page: str, chart_id: str) -> dict:
    found = re.search(rf'<script id="{chart_id}-spec" type="application/json">(.*?)</script>', page)
    assert found, chart_id
    return json.loads(found.group(1))


def counts() -> dict[str, int]:
    return {
        "sales": Sale.objects.count(),
        "revisions": ProgramRevision.objects.count(),
        "audit": AuditEntry.objects.count(),
        "simulations": Simulation.objects.count(),
        "tiers": Tier.objects.count(),
        "promotions": Promotion.objects.count(),
        "members": Member.objects.count(),
    }


def run(client: Client, program: str, **fields: str):
    return client.post("/whatif/", {"program": program, **short_range(), **fields})


def token_of(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found
    return found.group(1)


# --- the page --------------------------------------------------------------------------------


def test_the_page_opens_for_hq_and_marketers_with_the_current_program_and_a_year(
    shop, hq, marketer, cashier
):
    for actor in (hq, marketer):
        page = logged_in(actor).get("/whatif/").content.decode()
        assert 'href="/whatif/"' in page  # the menu entry
        assert 'name="program"' in page and "code: gold" in page and "per_amount: 100" in page
        assert "code: c20" in page and "stores:" not in page  # the drafted sections only
        day = today()
        assert f'name="to" value="{(day - dt.timedelta(days=1)).isoformat()}"' in page
        assert f'name="from" value="{day.replace(year=day.year - 1).isoformat()}"' in page
    # The date inputs carry ISO days in every language (the browser's picker reads no other).
    zh = logged_in(hq, "zh-hans").get("/whatif/").content.decode()
    assert f'name="to" value="{(today() - dt.timedelta(days=1)).isoformat()}"' in zh
    assert logged_in(cashier).get("/whatif/").status_code == 403
    assert 'href="/whatif/"' not in logged_in(cashier).get("/").content.decode()


def test_a_short_replay_shows_the_hand_worked_figures_and_writes_nothing(shop, hq, gold_room):
    before = counts()

    response = run(logged_in(hq, "zh-hans"), gold_at_88(shop))

    assert response.status_code == 200 and counts() == before
    page = response.content.decode()
    # 1,000 yuan room: 800 now, 880 at 88%; gold's 1.5x points on each.
    assert figure_row(page, "revenue") == "营业额 ¥800.00 ¥880.00 ▲ +¥80.00"
    assert figure_row(page, "member_discount") == "会员价优惠 ¥200.00 ¥120.00 ▼ -¥80.00"
    assert figure_row(page, "discount") == "促销与券优惠 ¥0.00 ¥0.00 无变化"
    assert figure_row(page, "points_earned") == "获得积分 1,200 1,320 ▲ +120"
    assert figure_row(page, "points_liability_fen") == "期末积分负债 ¥12.00 ¥13.20 ▲ +¥1.20"
    assert "完全一致" in page  # the current program reproduces the recorded sale
    assert re.search(r'data-code="gold"><th scope="row">金卡会员</th>', page)
    months = chart_spec(page, "whatif-months")
    revenue = next(view for view in months["views"] if view["key"] == "revenue")
    assert revenue["values"] == {"current": [800.0], "draft": [880.0]}
    points = next(view for view in months["views"] if view["key"] == "points_earned")
    assert points["unit"] == "count" and points["values"] == {"current": [1200], "draft": [1320]}
    stores = chart_spec(page, "whatif-stores")
    assert stores["labels"] == ["西湖店"] and stores["type"] == "bar"
    assert "/static/core/vendor/echarts.min.js" in page and "/static/core/charts.js" in page
    assert "<script>" not in page  # the CSP allows no inline script: the specs are JSON only
    assert 'id="whatif-apply-button"' in page  # HQ may apply


def test_the_members_who_would_change_tier_are_listed_by_name_masked_for_a_marketer(
    shop, hq, marketer
):
    moving = member(shop, "13800138005")
    sell(shop, moving, [("DISH", "dishes", 60000)], "s1")
    sell(shop, moving, [("ROOM", "rooms", 100000)], "s2")
    sell(shop, moving, [("ROOM", "rooms", 100000)], "s3")  # silver now; gold under the draft
    rows = tiers_with(shop, "silver", upgrade_when={"spend_12m": 50000})
    for row in rows:
        if row["code"] == "gold":
            row["upgrade_when"] = {"spend_12m": 150000}
    program = dump_yaml({"tiers": rows})

    page = run(logged_in(marketer, "zh-hans"), program).content.decode()

    moves = page[page.index('id="whatif-moves"') :]
    assert "1 位会员将处在另一等级" in moves
    assert f'href="/members/{moving.pk}/"' in moves
    assert "138****8005" in moves and "13800138005" not in moves  # masked for a marketer
    assert re.search(r"<td>银卡会员</td><td class=\"muted\">→</td><td><strong>金卡会员", moves)
    assert 'id="whatif-apply-button"' not in page  # marketers replay, HQ applies
    hq_page = run(logged_in(hq), program).content.decode()
    assert "13800138005" in hq_page[hq_page.index('id="whatif-moves"') :]


def test_an_invalid_draft_shows_every_error_and_writes_nothing(shop, hq):
    before = counts()
    bad = "tiers:\n- {code: gold, name: x, rank: -1, discount: {rooms: 300}}\npromotions: 5\n"

    page = run(logged_in(hq), bad).content.decode()

    assert "The program file has 3 error(s)." in page
    assert "tiers[0].rank: " in page and "tiers[0].discount.rooms: " in page
    assert "promotions: " in page and 'id="whatif-result"' not in page
    not_yaml = run(logged_in(hq), "tiers: [").content.decode()
    assert "Not valid YAML or JSON" in not_yaml
    assert "must be a mapping" in run(logged_in(hq), "- just a list").content.decode()
    assert counts() == before


def test_an_uploaded_program_file_is_the_draft(shop, hq, gold_room):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("draft.yaml", gold_at_88(shop).encode(), "application/x-yaml")
    page = (
        logged_in(hq)
        .post("/whatif/", {"program": "", "upload": upload, **short_range()})
        .content.decode()
    )
    assert "¥880.00" in figure_row(page, "revenue")
    broken = SimpleUploadedFile("bad.json", b'{"tiers": 5}', "application/json")
    refused = logged_in(hq).post("/whatif/", {"upload": broken, **short_range()}).content.decode()
    assert "tiers: " in refused and 'id="whatif-result"' not in refused


def test_bad_ranges_are_form_errors(shop, hq):
    client = logged_in(hq)
    program = gold_at_88(shop)
    day = today()
    backwards = run(client, program, **{"from": day.isoformat(), "to": "2026-01-01"})
    assert "The range ends before it starts." in backwards.content.decode()
    future = (day + dt.timedelta(days=3)).isoformat()
    ahead = run(client, program, **{"to": future}).content.decode()
    assert f"{future} is in the future: only recorded sales replay." in ahead
    unknown = run(client, program, store="S9").content.decode()
    assert "Select a valid choice" in unknown
    assert "Enter a date between" in run(client, program, **{"from": "0001-01-01"}).content.decode()
    assert Simulation.objects.count() == 0


# --- a long range: a job -----------------------------------------------------------------------


def test_a_long_range_is_a_job_whose_page_shows_its_result(
    shop, hq, gold_room, jobs_now, django_capture_on_commit_callbacks
):
    client = logged_in(hq)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/whatif/", {"program": gold_at_88(shop), **long_range()})

    simulation = Simulation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/whatif/{simulation.pk}/"
    assert simulation.status == "done" and simulation.channel == "console"
    page = client.get(response["Location"]).content.decode()
    assert figure_row(page, "revenue") == "Revenue ¥800.00 ¥880.00 ▲ +¥80.00"
    assert chart_spec(page, "whatif-months")["views"][0]["values"]["draft"][-1] == 880.0
    assert f'name="simulation" value="{simulation.pk}"' in page
    polled = client.get(f"/whatif/{simulation.pk}/progress/", headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"


def test_a_queued_job_page_polls_its_progress(shop, hq):
    day = today()
    asked = whatif.question(hq, day - dt.timedelta(days=200), day)
    simulation = jobs.submit(hq, draft(shop), asked)  # not run: no worker in this test

    page = logged_in(hq).get(f"/whatif/{simulation.pk}/").content.decode()

    assert f'hx-get="/whatif/{simulation.pk}/progress/"' in page and 'data-polling="1"' in page
    line = logged_in(hq).get(f"/whatif/{simulation.pk}/progress/", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in line
    assert logged_in(hq).get("/whatif/999999/").status_code == 404


# --- applying ----------------------------------------------------------------------------------


def test_applying_confirms_then_records_one_revision_and_one_audit_entry(shop, hq, gold_room):
    client = logged_in(hq)
    token = token_of(run(client, gold_at_88(shop)).content.decode())
    before = counts()

    confirm = client.post("/whatif/apply/", {"token": token}).content.decode()

    assert counts() == before  # the confirm step writes nothing
    assert 'id="whatif-confirm"' in confirm and "Tiers" in confirm and "金卡会员" in confirm
    done = client.post("/whatif/apply/", {"token": token, "confirmed": "1"})
    assert done.status_code == 302 and done["Location"] == "/program/revisions/"
    assert ProgramRevision.objects.count() == before["revisions"] + 1
    assert AuditEntry.objects.count() == before["audit"] + 1
    revision = ProgramRevision.objects.latest("pk")
    assert revision.applied_by == hq.user and revision.channel == "console"
    assert Tier.objects.get(code="gold").discount == {"rooms": 88, "dishes": 90}

    # The same result applied again: the program moved since its replay (this very revision).
    again = client.post("/whatif/apply/", {"token": token, "confirmed": "1"}).content.decode()
    assert 'id="whatif-stale"' in again and "code: gold" in again
    assert ProgramRevision.objects.count() == before["revisions"] + 1


def test_a_jobs_draft_is_applied_unless_the_program_moved_since(
    shop, hq, gold_room, jobs_now, django_capture_on_commit_callbacks
):
    client = logged_in(hq)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/whatif/", {"program": gold_at_88(shop), **long_range()})
    simulation = Simulation.objects.get()
    apply_program(shop, {"categories": ["rooms", "dishes", "drinks"]})  # someone else's change
    revisions = ProgramRevision.objects.count()

    stale = client.post("/whatif/apply/", {"simulation": simulation.pk, "confirmed": "1"})

    assert 'id="whatif-stale"' in stale.content.decode()
    assert ProgramRevision.objects.count() == revisions
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/whatif/", {"program": gold_at_88(shop), **long_range()})
    fresh = Simulation.objects.latest("pk")
    applied = client.post("/whatif/apply/", {"simulation": fresh.pk, "confirmed": "1"})
    assert applied.status_code == 302 and ProgramRevision.objects.count() == revisions + 1


def test_only_hq_applies_and_a_forged_token_is_refused(shop, hq, marketer, gold_room):
    token = token_of(run(logged_in(hq), gold_at_88(shop)).content.decode())
    assert logged_in(marketer).post("/whatif/apply/", {"token": token}).status_code == 403
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = logged_in(hq).post("/whatif/apply/", {"token": forged, "confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == "/whatif/"
    assert ProgramRevision.objects.filter(channel="console").count() == 0


# --- from the editors --------------------------------------------------------------------------


def test_the_tier_and_promotion_editors_open_the_page_with_their_draft(shop, hq, marketer):
    client = logged_in(hq)
    editor = client.get("/tiers/gold/edit/").content.decode()
    assert 'formaction="/whatif/draft/tiers/?editing=gold"' in editor
    form = {"name": "金卡会员", "discount_rooms": "85", "discount_dishes": "90"}
    form |= {"upgrade_spend_12m": "3000", "points_multiplier": "1.5"}

    page = client.post("/whatif/draft/tiers/?editing=gold", form).content.decode()

    assert 'id="whatif-from-editor"' in page
    assert "discount: {rooms: 85, dishes: 90}" in page
    assert ProgramRevision.objects.count() == 1  # the setup's; nothing saved

    promotion = {
        "name": "满200减30",
        "code": "M200",
        "kind": "automatic",
        "benefit_type": "fixed",
        "amount": "30",
        "min_amount": "200",
        "stacking": "stackable",
        "priority": "20",
    }
    editor = logged_in(marketer).get("/promotions/promotions/new/").content.decode()
    assert 'formaction="/whatif/draft/promotions/"' in editor
    page = logged_in(marketer).post("/whatif/draft/promotions/", promotion).content.decode()
    assert "code: M200" in page and "满200减30" in page
    incomplete = logged_in(marketer).post("/whatif/draft/promotions/", {"name": ""})
    assert 'id="whatif-editor-problems"' in incomplete.content.decode()
    assert Promotion.objects.count() == 0
