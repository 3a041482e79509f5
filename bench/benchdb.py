"""What several benchmarks share: a fresh database of their own, Django set up on it, and a
timer that prints one line per figure."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_postgres(server: str, database: str) -> str:
    """Drop and create `database` on the PostgreSQL `server` URL; its URL."""
    import psycopg

    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    return server.rstrip("/") + "/" + database


def migrated_django(database_url: str, data_dir: str) -> None:
    """Django on `database_url` with every migration applied."""
    os.environ["PATRON_DATABASE_URL"] = database_url
    os.environ.setdefault("PATRON_DATA_DIR", str(ROOT / "var" / data_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result
