"""The `commissions` program section: applied, exported back, refused with paths."""

from __future__ import annotations

import copy
import json

import pytest

from patron.core.errors import ValidationFailed
from patron.network.models import CommissionPolicy
from patron.program.services import apply_program, export_program, program_json_schema
from tests.cli_support import cli_in_process

SEED = {
    "per_card": 800,
    "per_topup": {"every": 50000, "amount": 800},
    "ladder": [{"members": 3, "bonus": 3000}, {"members": 6, "bonus": 8000}],
}


def errors_of(system, section) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        apply_program(system, {"commissions": section})
    return {error.field: str(error.message) for error in refused.value.errors}


def test_applied_exported_and_applied_again_unchanged(system):
    changes = apply_program(system, {"commissions": SEED})
    assert {c.key for c in changes if c.section == "commissions"} == {
        "per_card",
        "per_topup",
        "ladder",
    }
    assert export_program(system)["commissions"] == SEED
    assert apply_program(system, {"commissions": SEED}) == []
    assert apply_program(system, {}) == []  # left out: left as it is
    apply_program(system, {"commissions": {}})
    assert export_program(system)["commissions"] == {}
    assert "commissions" in program_json_schema()["properties"]


def with_ladder(*steps):
    return {**copy.deepcopy(SEED), "ladder": [{"members": m, "bonus": b} for m, b in steps]}


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"per_card": -1}, "commissions.per_card"),
        ({"per_topup": {"every": 0, "amount": 800}}, "commissions.per_topup.every"),
        ({"per_topup": {"every": 50000, "amount": -5}}, "commissions.per_topup.amount"),
        (with_ladder((3, 3000), (3, 8000)), "commissions.ladder[1].members"),
        (with_ladder((6, 8000), (3, 3000)), "commissions.ladder[1].members"),
        (with_ladder((3, 3000), (6, 2000)), "commissions.ladder[1].bonus"),
        (with_ladder((3, -1)), "commissions.ladder[0].bonus"),
        (with_ladder((0, 100)), "commissions.ladder[0].members"),
    ],
)
def test_bad_rules_are_refused_with_their_path_and_nothing_applied(system, section, path):
    assert path in errors_of(system, section)
    assert not CommissionPolicy.objects.exists()


def test_the_api_refuses_overlapping_steps_with_422(api):
    document = {"commissions": with_ladder((3, 3000), (3, 8000))}
    answer = api.put("/api/v1/program", document, content_type="application/json")
    assert answer.status_code == 422
    paths = [e.get("field") or e.get("path") for e in answer.json()["errors"]]
    assert "commissions.ladder[1].members" in paths
    assert not CommissionPolicy.objects.exists()


def test_the_cli_refuses_with_exit_1(merchant, tmp_path, capsys):
    path = tmp_path / "program.json"
    path.write_text(json.dumps({"commissions": with_ladder((3, 3000), (3, 8000))}))
    assert cli_in_process("program", "apply", str(path), "--merchant", merchant.slug) == 1
    assert "commissions.ladder[1].members" in capsys.readouterr().err
    assert not CommissionPolicy.objects.exists()
