"""`patron staff create|list` (API.md §12): each role, and readable errors with exit 1."""

from __future__ import annotations

import pytest

from patron.tenancy.models import Role, Staff
from tests.cli_support import cli_in_process


def staff(merchant, *args: str) -> int:
    return cli_in_process("staff", *args, "--merchant", merchant.slug)


@pytest.mark.parametrize(
    ("word", "role", "store"),
    [
        ("hq", Role.HQ_ADMIN, None),
        ("manager", Role.STORE_MANAGER, "S1"),
        ("cashier", Role.CASHIER, "S2"),
        ("marketer", Role.MARKETER, None),
    ],
)
def test_each_role_is_created(merchant, stores, capsys, word, role, store):
    where = ["--store", store] if store else []
    args = ["create", "zhang", "--role", word, *where, "--password", "secret123"]
    assert staff(merchant, *args) == 0
    created = Staff.objects.get(user__username="zhang", merchant=merchant)
    assert created.role == role
    assert (created.store.code if created.store else None) == store
    assert created.user.check_password("secret123")
    out = capsys.readouterr().out
    assert out.startswith("zhang\t") and (store is None or store in out)
    assert staff(merchant, "list") == 0
    assert "zhang" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "cashier"], "--store"),
        (["--role", "manager", "--store", "S9"], "S9"),
        (["--role", "cashier", "--store", "S1", "--password", "short"], "password"),
        (["--role", "boss", "--store", "S1"], "boss"),
    ],
)
def test_errors_are_readable_and_create_nothing(merchant, stores, capsys, args, says):
    if "--password" not in args:
        args = [*args, "--password", "secret123"]
    code = cli_in_process("staff", "create", "li", "--merchant", merchant.slug, *args)
    assert code == 1
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not Staff.objects.filter(user__username="li").exists()


def test_a_taken_user_name_and_an_unknown_merchant(merchant, stores, capsys):
    args = ["create", "wang", "--role", "hq", "--password", "secret123"]
    assert staff(merchant, *args) == 0
    assert staff(merchant, *args) == 1
    assert "wang" in capsys.readouterr().err
    assert cli_in_process("staff", "list", "--merchant", "nobody") == 1
    assert "nobody" in capsys.readouterr().err
