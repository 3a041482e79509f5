"""Restart refusal: a held port is detected even when the holder uses SO_REUSEPORT (as
granian's workers do), and the message names the port and, when it can, the holder."""

from __future__ import annotations

import os
import socket

import pytest
from django.core.management.base import CommandError

from patron.server.management.commands.serve import refuse_if_held
from patron.server.ports import listening_pids, port_in_use
from patron.server.state import state_path, write_state


@pytest.fixture
def held_port():
    """A port listened on by this process, the way a granian worker binds it."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_listening_port_is_in_use_and_a_closed_one_is_not(held_port):
    assert port_in_use("127.0.0.1", held_port)
    assert port_in_use("0.0.0.0", held_port)  # any address of the port is taken
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        free = spare.getsockname()[1]
    assert not port_in_use("127.0.0.1", free)


def test_the_holders_of_a_port_are_found(held_port):
    assert os.getpid() in listening_pids(held_port)


def test_refusal_names_the_holding_process(held_port):
    with pytest.raises(CommandError) as refused:
        refuse_if_held("127.0.0.1", held_port)
    message = str(refused.value)
    assert message.startswith(f"port {held_port} on 127.0.0.1 is still in use by pid")
    assert f"kill {os.getpid()}" in message and "\n" not in message


def test_refusal_names_the_earlier_patron_serve_from_its_state_file(held_port):
    path = state_path(held_port)
    write_state(
        path, {"pid": os.getpid(), "port": held_port, "started": "2026-03-01T09:00:00+08:00"}
    )
    try:
        with pytest.raises(CommandError) as refused:
            refuse_if_held("127.0.0.1", held_port)
    finally:
        path.unlink()
    assert str(refused.value) == (
        f"port {held_port} on 127.0.0.1 is still in use by patron serve pid {os.getpid()} "
        f"(started 2026-03-01T09:00:00+08:00); stop it (kill {os.getpid()}) before starting "
        "another"
    )


def test_a_port_that_cannot_be_bound_is_a_message_too():
    with pytest.raises(CommandError, match="cannot listen on 192.0.2.1:8123"):
        refuse_if_held("192.0.2.1", 8123)  # TEST-NET: not an address of this machine
