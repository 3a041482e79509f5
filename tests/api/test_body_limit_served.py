"""The body limit through a real `patron serve` process (granian): a body over 1 MiB is a 413
problem+json, answered before the body has even arrived, with and without an Idempotency-Key,
and the server keeps answering."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from tests.cli_support import PATRON, patron_env

pytestmark = pytest.mark.usefixtures("patron_cli")
OVER = 2 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/v1/members", body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type"), answer.read()
    finally:
        connection.close()


def post_declaring(
    port: int, declared: int, first_bytes: bytes, headers: dict[str, str]
) -> tuple[int, str | None, bytes]:
    """Declare a body of `declared` bytes but send only its start, then read the answer: it
    can only come before the body was read. (Sending all of it races the server's early
    answer and close: the client's send then fails with a broken pipe.)"""
    lines = [
        "POST /api/v1/members HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {declared}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + first_bytes)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        return answer.status, answer.getheader("Content-Type"), answer.read()


def wait_until_up(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port} within {seconds} s")


def test_a_served_api_answers_413_problem_json_to_a_body_over_the_limit(patron_cli):
    assert patron_cli("merchant", "create", "big-tea", "--name", "Big Tea").returncode == 0
    issued = patron_cli("apikey", "create", "--merchant", "big-tea")
    key = issued.stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen(
        [str(PATRON), "serve", "--port", str(port), "--workers", "1", "--no-worker"],
        env=patron_env(patron_cli.data_dir),
        cwd=patron_cli.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(port, process)
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        big = json.dumps({"mobile": "13800138000", "name": "x" * OVER}).encode()
        for headers in (auth, {**auth, "Idempotency-Key": "big-1"}):
            status, content_type, body = post_declaring(port, len(big), big[:65536], headers)
            assert status == 413, body[:300]
            assert content_type == "application/problem+json"
            assert json.loads(body)["code"] == "payload_too_large"
        small = json.dumps({"mobile": "13800138000", "name": "王芳"}).encode()
        status, _headers, body = post(port, small, {**auth, "Idempotency-Key": "small-1"})
        assert status == 201, body
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert b"Traceback" not in output, output.decode()
