"""Program-as-code (API.md §2, §5): `patron program apply|export` through call_command and the
real console script, and GET/PUT /api/v1/program."""

from __future__ import annotations

import json
import os
import sqlite3
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from patron.members.services import register_member
from patron.program.models import Category, ProgramRevision
from patron.program.services import apply_program, export_program
from patron.tenancy.models import AuditEntry, Store

pytestmark = [pytest.mark.postgres]

PROGRAM = """\
stores:
  - {code: S1, name: 西湖店}
  - {code: S2, name: 滨江店}
  - {code: S3, name: 城西店, address: 杭州市文二西路 66 号, phone: 0571-88888888}
categories: [rooms, dishes, drinks]
"""


def state(merchant) -> dict:
    """Everything a program apply may write, to compare before and after."""
    return {
        "stores": sorted(
            Store.objects.filter(merchant=merchant).values_list(
                "code", "name", "address", "phone", "is_active"
            )
        ),
        "categories": sorted(
            Category.objects.filter(merchant=merchant).values_list("code", "is_active", "position")
        ),
        "revisions": ProgramRevision.objects.filter(merchant=merchant).count(),
        "audit": AuditEntry.objects.filter(merchant=merchant).count(),
    }


def program_cmd(*args: str) -> str:
    out = StringIO()
    call_command("program", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def program_file(tmp_path):
    def write(text: str, name: str = "program.yaml", encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return str(path)

    return write


# --- apply through call_command --------------------------------------------------------------


def test_apply_adds_stores_and_categories(merchant, stores, program_file):
    out = program_cmd("apply", program_file(PROGRAM), "--merchant", "acme")
    lines = out.splitlines()
    assert "+ stores S3 城西店" in lines
    assert "+ categories rooms" in lines
    assert "+ categories drinks" in lines
    assert lines[-1] == "4 change(s) changed"
    s3 = Store.objects.get(merchant=merchant, code="S3")
    assert (s3.name, s3.address, s3.phone, s3.is_active) == (
        "城西店",
        "杭州市文二西路 66 号",
        "0571-88888888",
        True,
    )
    assert list(
        Category.objects.filter(merchant=merchant).order_by("position").values_list("code")
    ) == [("rooms",), ("dishes",), ("drinks",)]
    revision = ProgramRevision.objects.get(merchant=merchant)
    assert revision.channel == "cli"
    assert revision.changes == lines[:-1]
    assert revision.document["categories"] == ["rooms", "dishes", "drinks"]
    entry = AuditEntry.objects.get(object_type="store", object_id=str(s3.pk))
    assert (entry.action, entry.channel) == ("create", "cli")


def test_dry_run_prints_the_diff_and_writes_nothing(merchant, stores, program_file):
    before = state(merchant)
    out = program_cmd("apply", program_file(PROGRAM), "--merchant", "acme", "--dry-run")
    assert "+ stores S3 城西店" in out
    assert out.splitlines()[-1] == "4 change(s) would change"
    assert state(merchant) == before


def test_applying_twice_changes_nothing(merchant, stores, program_file):
    path = program_file(PROGRAM)
    program_cmd("apply", path, "--merchant", "acme")
    after_first = state(merchant)
    assert program_cmd("apply", path, "--merchant", "acme").strip() == "no changes"
    assert program_cmd("apply", path, "--merchant", "acme", "--dry-run").strip() == "no changes"
    assert state(merchant) == after_first


def test_a_store_missing_from_the_file_is_deactivated_and_kept(system, stores, program_file):
    member = register_member(system, {"mobile": "13800138000", "store": "S2"})
    out = program_cmd(
        "apply", program_file("stores: [{code: S1, name: 西湖店}]"), "--merchant", "acme"
    )
    assert out.splitlines()[0].startswith("- stores S2")
    s2 = Store.objects.get(pk=stores["S2"].pk)
    assert s2.is_active is False
    member.refresh_from_db()
    assert member.store == s2  # history kept
    deactivation = AuditEntry.objects.get(object_type="store", action="delete")
    assert deactivation.changes == {"is_active": [True, False]}
    assert [s["code"] for s in export_program(system)["stores"]] == ["S1"]

    # Listing it again brings it back.
    out = program_cmd("apply", program_file(PROGRAM), "--merchant", "acme")
    assert any(line.startswith("~ stores S2") and "is_active" in line for line in out.splitlines())
    assert Store.objects.get(pk=stores["S2"].pk).is_active is True


def test_changing_a_store(system, stores, program_file):
    text = "stores: [{code: S1, name: 西湖旗舰店, address: 北山街 1 号}, {code: S2, name: 滨江店}]"
    out = program_cmd("apply", program_file(text), "--merchant", "acme")
    assert out.splitlines()[0].startswith("~ stores S1")
    assert "西湖旗舰店" in out
    s1 = Store.objects.get(pk=stores["S1"].pk)
    assert (s1.name, s1.address) == ("西湖旗舰店", "北山街 1 号")
    # An address left out of the file is left alone.
    assert program_cmd(
        "apply",
        program_file("stores: [{code: S1, name: 西湖旗舰店}, {code: S2, name: 滨江店}]"),
        "--merchant",
        "acme",
    ).strip() == ("no changes")


def test_categories_end_reactivate_and_reorder(system, stores, program_file):
    program_cmd("apply", program_file("categories: [rooms, dishes, drinks]"), "--merchant", "acme")
    out = program_cmd("apply", program_file("categories: [rooms, drinks]"), "--merchant", "acme")
    assert out.splitlines()[0] == "- categories dishes"
    assert Category.objects.get(code="dishes").is_active is False
    assert export_program(system)["categories"] == ["rooms", "drinks"]

    out = program_cmd("apply", program_file("categories: [drinks, rooms]"), "--merchant", "acme")
    assert out.strip() != "no changes"  # a new order is a change and is shown
    assert "categories" in out and "drinks rooms" in out
    assert export_program(system)["categories"] == ["drinks", "rooms"]

    out = program_cmd(
        "apply", program_file("categories: [drinks, rooms, dishes]"), "--merchant", "acme"
    )
    assert "~ categories dishes" in out
    assert export_program(system)["categories"] == ["drinks", "rooms", "dishes"]


def test_categories_take_display_names_and_export_them(system, stores, program_file):
    named = "categories: [rooms, {code: dishes, name: 餐饮}]"
    out = program_cmd("apply", program_file(named), "--merchant", "acme")
    assert "+ categories dishes 餐饮" in out
    assert export_program(system)["categories"] == ["rooms", {"code": "dishes", "name": "餐饮"}]
    assert program_cmd("apply", program_file(named), "--merchant", "acme").strip() == "no changes"
    renamed = "categories: [{code: rooms, name: 客房}, {code: dishes, name: 中餐}]"
    out = program_cmd("apply", program_file(renamed), "--merchant", "acme")
    assert "~ categories dishes name: '餐饮' -> '中餐'" in out
    assert Category.objects.get(code="rooms").display_name == "客房"
    # The file exported applies as it is: nothing changes.
    exported = yaml.safe_dump({"categories": export_program(system)["categories"]})
    assert program_cmd("apply", program_file(exported), "--merchant", "acme").strip() == (
        "no changes"
    )


def test_reorder_dry_run_says_what_apply_would_do(system, stores, program_file):
    program_cmd("apply", program_file("categories: [a, b, c]"), "--merchant", "acme")
    before = state(system.merchant)
    dry = program_cmd(
        "apply", program_file("categories: [c, b, a]"), "--merchant", "acme", "--dry-run"
    )
    assert state(system.merchant) == before
    applied = program_cmd("apply", program_file("categories: [c, b, a]"), "--merchant", "acme")
    assert dry.splitlines()[:-1] == applied.splitlines()[:-1]
    assert dry.strip() != "no changes"


def test_a_section_absent_from_the_file_is_left_alone(system, stores, program_file):
    program_cmd("apply", program_file("categories: [rooms]"), "--merchant", "acme")
    program_cmd("apply", program_file("stores: [{code: S1, name: 西湖店}]"), "--merchant", "acme")
    assert export_program(system)["categories"] == ["rooms"]
    assert program_cmd("apply", program_file(""), "--merchant", "acme").strip() == "no changes"
    assert program_cmd("apply", program_file("{}"), "--merchant", "acme").strip() == "no changes"


def test_json_file(merchant, stores, program_file):
    document = {"stores": [{"code": "S1", "name": "西湖店"}], "categories": ["rooms"]}
    path = program_file(json.dumps(document, ensure_ascii=False), "program.json")
    out = program_cmd("apply", path, "--merchant", "acme")
    assert "- stores S2" in out and "+ categories rooms" in out


def test_file_with_a_utf8_bom(merchant, stores, program_file):
    path = program_file("categories: [rooms]", encoding="utf-8-sig")
    assert "+ categories rooms" in program_cmd("apply", path, "--merchant", "acme")


INVALID = """\
stores:
  - {code: "S 1", name: 西湖店}
  - {code: S2}
  - {code: S9, name: 新店}
  - {code: S9, name: 又一家}
  - {code: "S7\\n", name: 换行}
  - {code: S8, name: 八号店, manager: 张三}
  - just a string
categories: [rooms, "with space", rooms, 42, "trailing\\n"]
card_products: [{code: std, name: 会员卡, fee: -1}]
rewards: [{code: mug, name: 马克杯, points: 0, kind: goods}]
colour: blue
"""

INVALID_PATHS = {
    "stores[0].code",
    "stores[1].name",
    "stores[3].code",
    "stores[4].code",
    "stores[5].manager",
    "stores[6]",
    "categories[1]",
    "categories[2]",
    "categories[3]",
    "categories[4]",
    "card_products[0].fee",
    "rewards[0].points",
    "colour",
}


def test_an_invalid_file_is_rejected_whole_with_every_error(merchant, stores, program_file):
    before = state(merchant)
    with pytest.raises(CommandError) as caught:
        program_cmd("apply", program_file(INVALID), "--merchant", "acme")
    message = str(caught.value)
    listed = {line.strip().split(":")[0] for line in message.splitlines()[1:]}
    assert listed == INVALID_PATHS, message
    assert str(len(INVALID_PATHS)) in message.splitlines()[0]  # "13 error(s)"
    for line in message.splitlines()[1:]:
        assert line.split(":", 1)[1].strip(), line  # every path has a reason
    assert state(merchant) == before  # S9 was valid but nothing was applied


@pytest.mark.parametrize("section", ["someday"])
def test_sections_this_version_cannot_apply_are_rejected(
    merchant, stores, program_file, section, monkeypatch
):
    # Every section API.md names is applied now: one a later version would add stands for them.
    from patron.program import services as program_services

    monkeypatch.setattr(program_services, "FUTURE_SECTIONS", {section})
    before = state(merchant)
    with pytest.raises(CommandError, match=section):
        program_cmd(
            "apply", program_file(f"categories: [rooms]\n{section}: []"), "--merchant", "acme"
        )
    assert state(merchant) == before


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("stores: [{code: S1, name: 西湖店}\n", "$"),  # YAML syntax error
        ("- a list\n- not a mapping\n", "$"),
        ("just text", "$"),
        ("stores: {code: S1}", "stores"),
        ("categories: rooms", "categories"),
        ('stores: [{code: S1, name: "西湖\\0店"}]', "stores[0].name"),
        ('categories: ["ro\\0oms"]', "categories[0]"),
        ('stores: [{code: S1, name: 西湖店, address: "\\0"}]', "stores[0].address"),
    ],
)
def test_malformed_files_are_rejected_readably(merchant, stores, program_file, text, path):
    before = state(merchant)
    with pytest.raises(CommandError) as caught:
        program_cmd("apply", program_file(text), "--merchant", "acme")
    assert path in str(caught.value)
    assert state(merchant) == before


def test_missing_or_unreadable_files_and_unknown_merchants(merchant, tmp_path, program_file):
    with pytest.raises(CommandError, match="No such file"):
        program_cmd("apply", str(tmp_path / "nope.yaml"), "--merchant", "acme")
    with pytest.raises(CommandError, match="No such file"):
        program_cmd("apply", str(tmp_path), "--merchant", "acme")
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("stores: [{code: S1, name: café}]".encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        program_cmd("apply", str(latin), "--merchant", "acme")
    with pytest.raises(CommandError, match="nobody"):
        program_cmd("apply", program_file("{}"), "--merchant", "nobody")
    with pytest.raises(CommandError, match="nobody"):
        program_cmd("export", "--merchant", "nobody")


# --- export ----------------------------------------------------------------------------------


def test_export_prints_the_program_as_yaml_and_json(merchant, stores, program_file):
    program_cmd("apply", program_file(PROGRAM), "--merchant", "acme")
    exported = yaml.safe_load(program_cmd("export", "--merchant", "acme"))
    assert exported["stores"] == [
        {"code": "S1", "name": "西湖店"},
        {"code": "S2", "name": "滨江店"},
        {
            "code": "S3",
            "name": "城西店",
            "address": "杭州市文二西路 66 号",
            "phone": "0571-88888888",
        },
    ]
    assert exported["categories"] == ["rooms", "dishes", "drinks"]
    as_json = json.loads(program_cmd("export", "--merchant", "acme", "--json"))
    assert as_json == exported
    assert "西湖店" in program_cmd("export", "--merchant", "acme")  # readable, not \\u escapes


def test_export_of_a_new_merchant_round_trips(merchant, program_file):
    """A merchant that never applied a file still exports a file that applies cleanly."""
    text = program_cmd("export", "--merchant", "acme")
    assert yaml.safe_load(text)["stores"] == []
    assert program_cmd("apply", program_file(text), "--merchant", "acme").strip() == "no changes"


def test_export_then_apply_changes_nothing(system, stores, program_file):
    program_cmd("apply", program_file(PROGRAM), "--merchant", "acme")
    program_cmd("apply", program_file("categories: [drinks, rooms]"), "--merchant", "acme")
    before = state(system.merchant)
    exported = program_cmd("export", "--merchant", "acme")
    assert program_cmd("apply", program_file(exported), "--merchant", "acme").strip() == (
        "no changes"
    )
    as_json = program_cmd("export", "--merchant", "acme", "--json")
    path = program_file(as_json, "program.json")
    assert program_cmd("apply", path, "--merchant", "acme").strip() == "no changes"
    assert state(system.merchant) == before


def test_programs_are_per_merchant(system, stores, other_api, program_file):
    from patron.tenancy.models import Merchant

    program_cmd("apply", program_file("stores: [{code: S1, name: 西湖店}]"), "--merchant", "acme")
    other = Merchant.objects.get(slug="other")
    assert Store.objects.get(merchant=other, code="S1").is_active is True
    assert Store.objects.get(pk=stores["S2"].pk).is_active is False


# --- the API ---------------------------------------------------------------------------------

PROGRAM_URL = "/api/v1/program"


def put(client, document, **query):
    url = PROGRAM_URL + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    body = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    return client.put(url, data=body, content_type="application/json")


def test_get_program(api, system):
    apply_program(system, {"categories": ["rooms", "dishes"]})
    response = api.get(PROGRAM_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["stores"] == [{"code": "S1", "name": "西湖店"}, {"code": "S2", "name": "滨江店"}]
    assert body["categories"] == ["rooms", "dishes"]
    assert body == json.loads(json.dumps(export_program(system)))


def test_put_program_applies_and_answers_with_the_changes(api, merchant):
    document = yaml.safe_load(PROGRAM)
    response = put(api, document)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is False
    assert "+ stores S3 城西店" in body["changes"]
    assert body["program"]["categories"] == ["rooms", "dishes", "drinks"]
    assert Store.objects.filter(merchant=merchant, code="S3").exists()
    revision = ProgramRevision.objects.get(merchant=merchant)
    assert revision.channel == "api"
    s3_audit = AuditEntry.objects.get(object_type="store", action="create", channel="api")
    assert s3_audit.api_key is not None

    again = put(api, document)
    assert again.json()["changes"] == []
    assert ProgramRevision.objects.filter(merchant=merchant).count() == 1


def test_put_program_dry_run_writes_nothing(api, merchant):
    before = state(merchant)
    response = put(api, yaml.safe_load(PROGRAM), dry_run="true")
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True
    assert "+ stores S3 城西店" in body["changes"]
    assert [s["code"] for s in body["program"]["stores"]] == ["S1", "S2"]  # still the current
    assert state(merchant) == before


def test_put_invalid_program_is_422_with_every_error(api, merchant):
    before = state(merchant)
    response = put(api, yaml.safe_load(INVALID))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert {e["field"] for e in problem["errors"]} == INVALID_PATHS
    assert all(e["message"] for e in problem["errors"])
    assert state(merchant) == before


@pytest.mark.parametrize("body", ["[]", '"stores"', "{", "null"])
def test_put_program_needs_a_json_object(api, merchant, body):
    before = state(merchant)
    response = put(api, body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert state(merchant) == before


def test_put_program_only_touches_the_callers_merchant(api, other_api, merchant):
    response = put(other_api, {"stores": [{"code": "X1", "name": "别家新店"}]})
    assert response.status_code == 200
    assert [s["code"] for s in api.get(PROGRAM_URL).json()["stores"]] == ["S1", "S2"]
    assert Store.objects.filter(merchant=merchant, is_active=True).count() == 2


def test_program_api_needs_a_key(client, merchant):
    assert client.get(PROGRAM_URL).status_code == 401
    response = client.put(PROGRAM_URL, data="{}", content_type="application/json")
    assert response.status_code == 401


# --- the real console script -----------------------------------------------------------------

# The script runs on a SQLite file of its own whatever database the suite uses: once is enough.
on_its_own_sqlite = pytest.mark.skipif(
    os.environ.get("PATRON_DATABASE_URL", "").startswith("postgres"),
    reason="the console script uses its own SQLite file; covered by the SQLite run",
)


@on_its_own_sqlite
def test_cli_apply_dry_run_twice_and_export(patron_cli):
    assert patron_cli("merchant", "create", "acme", "--name", "Acme").returncode == 0
    program = patron_cli.data_dir / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")

    dry = patron_cli("program", "apply", str(program), "--merchant", "acme", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+ stores S3 城西店" in dry.stdout
    assert dry.stdout.splitlines()[-1] == "6 change(s) would change"
    with sqlite3.connect(patron_cli.data_dir / "patron.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tenancy_store").fetchone() == (0,)  # dry run

    applied = patron_cli("program", "apply", str(program), "--merchant", "acme")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[-1] == "6 change(s) changed"
    again = patron_cli("program", "apply", str(program), "--merchant", "acme")
    assert (again.returncode, again.stdout.strip()) == (0, "no changes")

    exported = patron_cli("program", "export", "--merchant", "acme")
    assert exported.returncode == 0, exported.stderr
    assert [s["code"] for s in yaml.safe_load(exported.stdout)["stores"]] == ["S1", "S2", "S3"]
    round_trip = patron_cli("program", "apply", "-", "--merchant", "acme", stdin=exported.stdout)
    assert (round_trip.returncode, round_trip.stdout.strip()) == (0, "no changes")


@on_its_own_sqlite
def test_cli_rejects_an_invalid_file_with_exit_1_and_every_error(patron_cli):
    patron_cli("merchant", "create", "acme", "--name", "Acme")
    program = patron_cli.data_dir / "bad.yaml"
    program.write_text(INVALID, encoding="utf-8")
    done = patron_cli("program", "apply", str(program), "--merchant", "acme")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for path in INVALID_PATHS:
        assert f"  {path}: " in done.stderr, path
    exported = patron_cli("program", "export", "--merchant", "acme")
    assert yaml.safe_load(exported.stdout)["stores"] == []


@on_its_own_sqlite
def test_cli_unknown_merchant_and_missing_file(patron_cli):
    done = patron_cli("program", "apply", "nope.yaml", "--merchant", "nobody")
    assert done.returncode == 1
    assert "nobody" in done.stderr and "Traceback" not in done.stderr
    patron_cli("merchant", "create", "acme", "--name", "Acme")
    done = patron_cli("program", "apply", "nope.yaml", "--merchant", "acme")
    assert done.returncode == 1
    assert "nope.yaml" in done.stderr and "Traceback" not in done.stderr
