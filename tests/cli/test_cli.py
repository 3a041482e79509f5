"""The `patron` command line (API.md §1, F-53), run as a real process on a SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from tests.cli_support import PATRON, patron_env, run_patron
from tests.demo.test_demo_consistency import NETWORK_RECRUITS

COUNTS = """
import json
from django.contrib.auth import authenticate
from django.http import HttpRequest
from patron.members.models import Member
from patron.tenancy.models import Merchant, Staff, Store
m = Merchant.objects.get(slug="demo")
cashier = authenticate(HttpRequest(), username="s1.cashier", password="patron-demo")  # as a log-in
print(json.dumps({
    "stores": sorted(Store.objects.filter(merchant=m).values_list("code", flat=True)),
    "staff": Staff.objects.filter(merchant=m).count(),
    "members": Member.objects.filter(merchant=m).count(),
    "members_with_store": Member.objects.filter(merchant=m, store__isnull=False).count(),
    "cashier_logs_in": cashier is not None,
}))
"""

API_CHECK = """
import json, sys
from django.test import Client
key = sys.stdin.read().strip()
client = Client(headers={"Authorization": "Bearer " + key})
created = client.post("/api/v1/members", data={"mobile": "13800138000"},
                      content_type="application/json")
listed = client.get("/api/v1/members")
wrong = Client(headers={"Authorization": "Bearer " + key + "x"}).get("/api/v1/members")
print(json.dumps([created.status_code, listed.json()["count"], wrong.status_code]))
"""


def row_counts(database) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        ]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def assert_readable_failure(done, *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip(), "a failure must say why"
    for word in words:
        assert word in done.stderr, done.stderr


# --- migrate ---------------------------------------------------------------------------------


def test_migrate_creates_the_database_under_the_data_dir(tmp_path):
    data_dir = tmp_path / "fresh"
    data_dir.mkdir()
    done = run_patron(data_dir, "migrate", "--verbosity", "1")  # PATRON_DATABASE_URL: a file
    assert done.returncode == 0, done.stderr
    assert "Applying tenancy.0001_initial... OK" in done.stdout
    database = data_dir / "patron.sqlite3"
    assert database.is_file()
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"tenancy_merchant", "members_member", "core_idempotencyrecord"} <= tables

    again = run_patron(data_dir, "migrate")
    assert again.returncode == 0
    assert "No migrations to apply" in again.stdout


def test_without_a_database_url_the_data_dir_holds_the_database(tmp_path):
    env = patron_env(tmp_path)
    del env["PATRON_DATABASE_URL"]
    done = subprocess.run(
        [str(PATRON), "migrate", "--verbosity", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "patron.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0


# --- merchants -------------------------------------------------------------------------------


def test_merchant_create_prints_its_id(patron_cli):
    first = patron_cli("merchant", "create", "acme", "--name", "Acme 连锁")
    assert first.returncode == 0, first.stderr
    second = patron_cli("merchant", "create", "hz", "--name", "杭州", "--timezone", "Asia/Urumqi")
    assert second.returncode == 0, second.stderr
    assert first.stdout.strip().isdigit() and second.stdout.strip().isdigit()
    assert first.stdout.strip() != second.stdout.strip()
    with sqlite3.connect(patron_cli.data_dir / "patron.sqlite3") as db:
        rows = db.execute("SELECT id, slug, name, timezone FROM tenancy_merchant ORDER BY id")
        assert list(rows) == [
            (int(first.stdout), "acme", "Acme 连锁", "Asia/Shanghai"),
            (int(second.stdout), "hz", "杭州", "Asia/Urumqi"),
        ]


def test_duplicate_merchant_is_one_readable_line_and_exit_1(patron_cli):
    patron_cli("merchant", "create", "acme", "--name", "Acme")
    done = patron_cli("merchant", "create", "acme", "--name", "Acme again")
    assert done.returncode == 1
    assert_readable_failure(done, "acme")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


def test_bad_merchant_input_lists_each_problem_once(patron_cli):
    done = patron_cli("merchant", "create", "bad slug", "--name", "X", "--timezone", "Mars/Base")
    assert done.returncode == 1
    assert_readable_failure(done, "slug", "timezone", "Mars/Base")
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, done.stderr  # one line per problem, not the detail repeated
    single = patron_cli("merchant", "create", "ok", "--name", "X", "--timezone", "Nowhere")
    assert_readable_failure(single, "Nowhere")
    assert len(single.stderr.strip().splitlines()) == 1, single.stderr


def test_merchant_create_needs_its_arguments(patron_cli):
    done = patron_cli("merchant", "create", "acme")
    assert done.returncode != 0
    assert "--name" in done.stderr
    assert "Traceback" not in done.stderr


# --- API keys --------------------------------------------------------------------------------


def test_apikey_create_prints_the_key_alone_on_the_last_line_and_it_works(patron_cli):
    patron_cli("merchant", "create", "acme", "--name", "Acme")
    done = patron_cli("apikey", "create", "--merchant", "acme", "--name", "POS")
    assert done.returncode == 0, done.stderr
    key = done.stdout.splitlines()[-1]
    assert key == key.strip() and key.startswith("pk_") and " " not in key
    assert len(key) > 40
    with sqlite3.connect(patron_cli.data_dir / "patron.sqlite3") as db:
        stored = " ".join(str(v) for row in db.execute("SELECT * FROM tenancy_apikey") for v in row)
    assert key not in stored and key.split("_", 2)[2] not in stored

    check = patron_cli("shell", "-c", API_CHECK, stdin=key)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout.splitlines()[-1]) == [201, 1, 401]

    too_long = patron_cli("apikey", "create", "--merchant", "acme", "--name", "n" * 101)
    assert_readable_failure(too_long, "name")


@pytest.mark.parametrize(
    "args",
    [
        ("apikey", "create", "--merchant", "nobody"),
        ("program", "export", "--merchant", "nobody"),
    ],
)
def test_unknown_merchant_is_a_readable_failure(patron_cli, args):
    done = patron_cli(*args)
    assert done.returncode == 1
    assert_readable_failure(done, "nobody")
    assert done.stdout == ""


def test_unknown_command_is_a_readable_failure(patron_cli):
    done = patron_cli("frobnicate")
    assert done.returncode != 0
    assert "frobnicate" in done.stderr and "Traceback" not in done.stderr


# --- demo ------------------------------------------------------------------------------------


def test_demo_creates_a_chain_once_and_prints_logins(patron_cli):
    first = patron_cli("demo", "--members", "50", "--url", "http://127.0.0.1:9000/")
    assert first.returncode == 0, first.stderr
    assert "50" in first.stdout
    assert "http://127.0.0.1:9000/" in first.stdout
    for login in ("hq", "marketer", "s1.manager", "s1.cashier", "s3.cashier"):
        assert login in first.stdout
    assert "patron-demo" in first.stdout
    counts = patron_cli("shell", "-c", COUNTS)
    assert counts.returncode == 0, counts.stderr
    created = json.loads(counts.stdout.splitlines()[-1])
    assert created == {
        "stores": ["S1", "S2", "S3"],
        "staff": 8,
        "members": 50 + NETWORK_RECRUITS,
        "members_with_store": 50 + NETWORK_RECRUITS,
        "cashier_logs_in": True,
    }

    before = row_counts(patron_cli.data_dir / "patron.sqlite3")
    again = patron_cli("demo", "--members", "50")
    assert again.returncode == 0, again.stderr
    assert "hq" in again.stdout  # the logins are printed again
    assert row_counts(patron_cli.data_dir / "patron.sqlite3") == before  # nothing new anywhere


def test_demo_if_empty_leaves_other_merchants_alone(patron_cli):
    patron_cli("merchant", "create", "acme", "--name", "Acme")
    done = patron_cli("demo", "--if-empty", "--members", "5")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(patron_cli.data_dir / "patron.sqlite3") as db:
        slugs = [row[0] for row in db.execute("SELECT slug FROM tenancy_merchant")]
    assert slugs == ["acme"]


def test_demo_rejects_a_silly_member_count(patron_cli):
    done = patron_cli("demo", "--members", "-1")
    assert_readable_failure(done, "--members")
