"""`patron serve`: the real server process (granian by default, gunicorn on request) answers
the console, static files and the API over HTTP, and stops on SIGTERM with its workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.cli_support import PATRON, patron_env
from tests.server.serving import fetch, free_port, wait_until_up


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_the_server_answers_pages_static_files_and_the_api_then_stops(patron_cli, server):
    created = patron_cli("merchant", "create", "serve-tea", "--name", "Serve Tea")
    assert created.returncode == 0, created.stderr
    issued = patron_cli("apikey", "create", "--merchant", "serve-tea", "--name", "till")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(PATRON), "serve", "--port", str(port), "--workers", "1", "--threads", "2"]
    process = subprocess.Popen(
        [*command, "--server", server, "--no-worker"],
        env=patron_env(patron_cli.data_dir),
        cwd=patron_cli.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(f"{base}/login/", process)
        status, _headers, page = fetch(f"{base}/login/")
        assert status == 200 and b"<form" in page
        css = next(
            part.split('"', 1)[0]
            for part in page.decode().split('href="/static/')[1:]
            if part.split('"', 1)[0].endswith(".css")
        )
        status, headers, _body = fetch(f"{base}/static/{css}")
        assert status == 200 and headers["Content-Type"].startswith("text/css")

        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        body = json.dumps({"mobile": "13800138000", "name": "王芳"}).encode()
        status, _headers, first = fetch(
            f"{base}/api/v1/members", body, {**auth, "Idempotency-Key": "m-1"}
        )
        assert status == 201, first
        status, headers, again = fetch(
            f"{base}/api/v1/members", body, {**auth, "Idempotency-Key": "m-1"}
        )
        assert (status, again, headers.get("Idempotent-Replayed")) == (201, first, "true")
        status, headers, problem = fetch(f"{base}/api/v1/members")
        assert status == 401 and headers["Content-Type"] == "application/problem+json"
        assert json.loads(problem)["code"] == "unauthorized"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode is not None
    with pytest.raises(ProcessLookupError):  # no worker left behind in the group
        os.killpg(process.pid, 0)
    assert b"Traceback" not in output, output.decode()
