"""`POST /program/simulate`, `GET /program/simulate/{id}` and `patron program simulate`
(API.md §13): the figures, the job for long ranges, and every bad input refused clearly with
nothing written."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from patron.program.services import export_program
from patron.whatif.models import Simulation
from tests.cli_support import cli_in_process
from tests.whatif.support import member, sell, setup, tiers_with, today
from tests.whatif.test_replay_checks import row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def shop(system, stores):
    setup(system)
    return system


@pytest.fixture
def history(shop):
    a = member(shop, "13800138041")
    sell(shop, a, [("ROOM", "rooms", 200000)], "s1")  # 2000 yuan: silver after it
    sell(shop, a, [("ROOM", "rooms", 100000)], "s2")  # silver: 880 yuan
    return a


def gold_at(shop, percent: int) -> dict:
    document = export_program(shop)
    document["tiers"] = tiers_with(shop, "silver", discount={"rooms": percent})
    return document


def post(api, body: dict):
    return api.post("/api/v1/program/simulate", body, content_type="application/json")


def span(days: int) -> tuple[str, str]:
    last = today()
    return (last - dt.timedelta(days=days - 1)).isoformat(), last.isoformat()


def test_a_short_range_answers_the_figures(api, shop, history):
    first, last = span(31)
    before = row_counts()
    response = post(api, {"program": gold_at(shop, 80), "from": first, "to": last})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sales"] == 2
    assert body["current"]["member_discount"] == 12000
    assert body["draft"]["member_discount"] == 20000
    assert body["diff"]["revenue"] == -8000
    assert body["diff"]["member_discount"] == 8000
    assert set(body["current"]) >= {
        "revenue",
        "discount",
        "member_discount",
        "points_earned",
        "points_redeemed",
        "points_liability_fen",
        "by_promotion",
        "by_tier",
    }
    assert body["faithful"]["sales_compared"] == 2
    assert body["faithful"]["sales_differing"] == 0
    assert row_counts() == before


def test_a_long_range_is_a_job(api, shop, history, jobs_now, django_capture_on_commit_callbacks):
    first, last = span(32)
    with django_capture_on_commit_callbacks() as queued:
        response = post(api, {"program": gold_at(shop, 80), "from": first, "to": last})
    assert api.get(f"/api/v1/program/simulate/{response.json()['id']}").json()["status"] == (
        "queued"
    )
    for job in queued:
        job()
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued"
    done = api.get(f"/api/v1/program/simulate/{job['id']}")
    assert done.status_code == 200
    found = done.json()
    assert found["status"] == "done"
    assert found["result"]["diff"]["member_discount"] == 8000
    assert Simulation.objects.get().status == Simulation.Status.DONE


def test_another_merchants_job_is_not_found(api, other_api, shop, history):
    first, last = span(60)
    job = post(api, {"program": gold_at(shop, 80), "from": first, "to": last}).json()
    assert other_api.get(f"/api/v1/program/simulate/{job['id']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "not a day"}, "to"),
        ({"store": "NOPE"}, "store"),
    ],
)
def test_bad_fields_are_422(api, shop, history, change, field):
    first, last = span(10)
    before = row_counts()
    response = post(api, {"program": gold_at(shop, 80), "from": first, "to": last, **change})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in json.dumps(response.json())
    assert row_counts() == before


def test_a_backwards_or_future_range_is_refused(api, shop, history):
    last = today()
    backwards = post(
        api,
        {"program": {}, "from": last.isoformat(), "to": (last - dt.timedelta(days=3)).isoformat()},
    )
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["errors"]] == ["to"]
    future = post(
        api,
        {"program": {}, "from": last.isoformat(), "to": (last + dt.timedelta(days=1)).isoformat()},
    )
    assert future.status_code == 422
    assert [e["field"] for e in future.json()["errors"]] == ["to"]


def test_an_invalid_draft_gets_every_error_program_apply_gives(api, shop, history):
    first, last = span(10)
    base = {"code": "normal", "name": "普通", "rank": 0, "upgrade_when": {"spend_12m": 1}}
    bad = {"tiers": [base, {"code": "x", "rank": "high"}], "nonsense": 1}
    simulated = post(api, {"program": bad, "from": first, "to": last})
    applied = api.put("/api/v1/program", bad, content_type="application/json")
    assert simulated.status_code == applied.status_code == 422
    assert simulated.json()["errors"] == applied.json()["errors"]
    assert len(simulated.json()["errors"]) >= 3


def test_the_cli_prints_only_the_json(shop, history, tmp_path, capsys):
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(gold_at(shop, 80), ensure_ascii=False), encoding="utf-8")
    first, last = span(365)
    before = row_counts()
    code = cli_in_process(
        "program", "simulate", str(path), "--merchant", "acme", "--from", first, "--to", last
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    body = json.loads(out)
    assert set(body) == {"sales", "current", "draft", "diff"}
    assert body["diff"]["member_discount"] == 8000
    assert "2" in err  # the faithfulness line: both recorded sales replayed exactly
    assert row_counts() == before


def test_the_cli_refuses_bad_input_readably(shop, history, tmp_path, capsys):
    path = tmp_path / "draft.yaml"
    path.write_text("tiers:\n  - {code: normal, rank: zero}\n", encoding="utf-8")
    first, last = span(10)
    code = cli_in_process(
        "program", "simulate", str(path), "--merchant", "acme", "--from", first, "--to", last
    )
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert "tiers[0]" in err and "Traceback" not in err
    code = cli_in_process(
        "program",
        "simulate",
        str(path),
        "--merchant",
        "acme",
        "--from",
        last,
        "--to",
        first,
        "--store",
        "NOPE",
    )
    out, err = capsys.readouterr()
    assert code != 0 and out == "" and "NOPE" in err and "Traceback" not in err
