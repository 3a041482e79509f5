"""`patron events list` and `patron events dispatch`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patron.events.dispatch import add_consumer
from patron.events.services import emit
from tests.cli_support import cli_in_process


def test_list_and_dispatch(merchant, only_test_consumers, capsys):
    seen = []
    add_consumer("test", lambda event: seen.append(event.pk))
    first = emit(merchant.pk, "sale.completed", {}, member_id=7)
    second = emit(merchant.pk, "topup.completed", {}, member_id=7)
    assert cli_in_process("events", "list", "--merchant", "acme", "--pending") == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in listed] == [f"#{second.pk}", f"#{first.pk}"]
    assert all("pending" in line for line in listed)
    assert cli_in_process("events", "dispatch") == 0
    assert "dispatched 2; still pending 0" in capsys.readouterr().out
    assert seen == [first.pk, second.pk]
    cli_in_process("events", "list", "--merchant", "acme", "--type", "topup.completed")
    assert capsys.readouterr().out.split("\t")[4] == "delivered"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--merchant", "nope"], "No merchant with slug 'nope'"),
        (["--merchant", "acme", "--type", "sale.done"], "Unknown event type 'sale.done'"),
        (["--merchant", "acme", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_input_is_a_message(merchant, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("events", "list", *args)
