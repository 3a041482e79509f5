"""Checkout throughput over HTTP: committed sales/s and latency, next to pgbench's TPC-B.

    .venv/bin/python bench/sales.py [--seconds 30] [--warmup 5] [--clients 16]
        [--members 2000] [--history 3000] [--workers 2] [--threads 4] [--server granian|gunicorn]
        [--profile-sales 300] [--pg postgres://postgres@127.0.0.1:5432/]

Creates a fresh PostgreSQL database (patron_bench_sales), migrates it and sets up a merchant
with the program of tests/sales/conftest.py (three tiers, points earn and redeem, the SPRING10
code promotion and the automatic man300), N members on the three tiers with stored value and
points, an API key and --history earlier sales (then VACUUM ANALYZE, as autovacuum would have
on a running shop: see `make_history`). Then, in one run:

1. profile: commits --profile-sales sales in this process through the whole Django stack (test
   client, the same middleware and API) and prints, per sale, the SQL statements and the time
   of each phase (API key, pricing and its parts, recording, ledger postings, member figures,
   the answer), the statements each phase sends with their time, and cProfile's Python hot spots;
2. HTTP: starts `patron serve` (granian by default, or gunicorn gthread: --server; --workers x
   --threads) on a free port and runs
   --clients keep-alive client threads, each posting 5-line baskets (a member, SPRING10, some
   points, stored value on half of them, a fresh Idempotency-Key) for --warmup seconds, then
   --seconds measured; prints committed sales/s, p50/p90/p99 latency and errors by status/code;
3. pgbench: TPC-B on the same server (`pgbench -i -s 10` into a scratch database, then
   `pgbench -c 16 -j 2 -T <seconds>`); prints its TPS and the ratio sales/s / pgbench TPS.

Targets (issue 5): >= 250 sales/s and p99 < 150 ms on this 2-core machine. The load average
is printed before and after: other work on the machine moves every figure. Not a test:
nothing is asserted, figures are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "patron_bench_sales"
PGBENCH_DATABASE = "patron_bench_pgbench"
TARGET_RATE, TARGET_P99_MS = 250, 150
# (sku, category, unit price in fen): a hotel restaurant's menu, rooms and shop.
CATALOGUE = [
    ("ROOM-STD", "rooms", 32000),
    ("ROOM-DLX", "rooms", 58000),
    ("DISH-FISH", "dishes", 5000),
    ("DISH-DUCK", "dishes", 8800),
    ("DISH-TOFU", "dishes", 2800),
    ("RICE", "dishes", 300),
    ("TEA-LJ", "drinks", 2000),
    ("BEER-TS", "drinks", 1200),
    ("JUICE", "drinks", 1800),
    ("GIFT-TEA", "retail", 16800),
    ("MUG", "retail", 3900),
]
STORED_VALUE = 5000  # fen per paying sale: under the program's PIN threshold (10,000)


# --- setup -----------------------------------------------------------------------------------


def recreate_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return server + name


def analyze(database_url: str) -> None:
    """Planner statistics for the freshly loaded tables, as autovacuum would gather them on
    a shop that has been running: without them PostgreSQL picks wrong indexes (the member
    look-up scanned every member of the merchant)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def configure(database_url: str, data_dir: str) -> None:
    os.environ["PATRON_DATABASE_URL"] = database_url
    os.environ["PATRON_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@dataclass
class Shop:
    merchant_id: int
    api_key: str
    members: list[int]


def set_up_shop(count: int) -> Shop:
    """The merchant, its program, `count` funded members (a third each normal, silver, gold)."""
    from django.db import transaction

    from patron.members.services import bulk_register
    from patron.program.services import apply_program
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_api_key, create_merchant, create_store
    from tests.sales.conftest import PROGRAM  # the same program the checkout tests price

    merchant = create_merchant("benchsales", "Bench 酒店餐饮")
    actor = Actor.system(merchant)
    create_store(actor, "S1", "西湖店")
    create_store(actor, "S2", "滨江店")
    apply_program(actor, PROGRAM)
    rows = [{"mobile": f"139{i:08d}"} for i in range(count)]
    with transaction.atomic():  # one commit for the set-up, not three per member
        members = list(bulk_register(actor, rows, channel="import"))
        fund(actor, members)
    return Shop(merchant.pk, create_api_key(actor, "bench")[1], [m.pk for m in members])


def make_history(shop: Shop, count: int) -> None:
    """`count` earlier sales, committed through the service as the till would have.

    A shop with a history is what a till sells into, and what the planner must see: with the
    sales tables empty at ANALYZE, each server connection planned its foreign-key checks
    (a sale line -> its sale, checked at COMMIT) and its prepared statements as scans of a
    tiny table, kept them for its life, and scanned the whole growing table for every line:
    half of PostgreSQL's CPU by the end of a 30 s run (perf: AfterTriggerFireDeferred ->
    seq scan of sales_sale). A running shop's autovacuum re-analyses growing tables, which
    re-plans them; this machine's PostgreSQL runs with autovacuum off, so the bench analyses
    after loading the history (`analyze`).
    """
    from patron.sales.services import LineInput, SaleRequest, commit_sale
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant

    actor = Actor.system(Merchant.objects.get(pk=shop.merchant_id))
    rng = random.Random(7)
    for index in range(count):
        body = basket(rng, shop.members)
        request = SaleRequest(
            lines=[LineInput(**line) for line in body["lines"]],
            member=body["member"],
            store=body["store"],
            codes=body["codes"],
            points_to_redeem=body["points_to_redeem"],
            stored_value=0,  # paying stored value needs no PIN here, but keep the funds
        )
        commit_sale(actor, request, key=f"history-{index}")


def fund(actor, members: list) -> None:
    """Tiers, 1,000 yuan of stored value and 50,000 points each: enough for the history and
    the whole run."""
    from patron.ledger import services as ledger
    from patron.promotions.services import set_member_tier

    for index, member in enumerate(members):
        if index % 3:
            set_member_tier(actor, member, "silver" if index % 3 == 1 else "gold")
        ledger.top_up(actor, member, 100_000, key=f"fund-sv-{member.pk}")
        ledger.adjust_points(actor, member, 50_000, reason="bench", key=f"fund-pt-{member.pk}")


def basket(rng: random.Random, members: list[int]) -> dict[str, Any]:
    """5 lines, a member, the code promotion, 5 to 30 yuan of points, stored value on half."""
    lines = [
        {
            "sku": sku,
            "category": category,
            "quantity": 1 if category == "rooms" else rng.randint(1, 3),
            "unit_price": price,
        }
        for sku, category, price in rng.sample(CATALOGUE, 5)
    ]
    return {
        "member": rng.choice(members),
        "store": rng.choice(("S1", "S2")),
        "lines": lines,
        "codes": ["SPRING10"],
        "points_to_redeem": rng.randrange(500, 3001, 100),
        "stored_value": STORED_VALUE if rng.random() < 0.5 else 0,
    }


# --- 1. profile in this process --------------------------------------------------------------

REST = "rest (middleware, idempotency, ninja I/O)"


@dataclass
class Phase:
    label: str
    depth: int
    owner: Any
    name: str
    seconds: float = 0.0
    sql_seconds: float = 0.0
    statements: int = 0


def phases() -> list[Phase]:
    """The functions a sale runs through, in call order; depth is nesting for the printout."""
    from django.db import connections

    from patron import api
    from patron.engine import pricing
    from patron.ledger import postings
    from patron.promotions import selectors as promotions
    from patron.sales import selectors as sales_selectors
    from patron.sales import services
    from patron.sales import sql as sales_sql
    from patron.tenancy import selectors as tenancy

    return [
        Phase("API key look-up (middleware)", 1, tenancy, "api_key_from_token"),
        Phase("API key auth (ninja)", 1, api.ApiKeyAuth, "authenticate"),
        Phase("commit_sale", 1, services, "commit_sale"),
        Phase("price", 2, services, "price"),
        Phase("check lines (categories)", 3, services, "_check_lines"),
        Phase("store", 3, services, "_resolve_store"),
        Phase("backdating window", 3, services, "_occurred_at"),
        Phase("identify member", 3, services, "identify_member"),
        Phase("coupons for sale", 3, promotions, "coupons_for_sale"),
        Phase("member context", 3, services, "_member_context"),
        Phase("engine program (rules)", 3, promotions, "engine_program"),
        Phase("pricing.quote (pure engine)", 3, pricing, "quote"),
        Phase("ensure payable", 2, services, "ensure_payable"),
        Phase("PIN threshold", 2, services, "pin_required"),
        Phase("record sale + lines + discounts", 2, services, "_record_sale"),
        Phase("consume coupons", 2, services, "_consume_coupons"),
        Phase("ledger postings", 2, services, "_move_value"),
        Phase("post_sale (spend, pay, earn)", 3, postings, "post_sale"),
        Phase("ledger ids + member figures", 2, sales_sql, "finish_sale"),
        Phase("present sale (answer)", 1, sales_selectors, "present_sale"),
        Phase("COMMIT (the middleware's transaction)", 1, connections["default"], "commit"),
    ]


class Recorder:
    """Times every statement sent to PostgreSQL (Django's own debug log rounds to whole ms,
    too coarse here) and wraps each phase's function to add up its inclusive time, SQL time
    and statements; remembers which statements ran in which phase."""

    def __init__(self, all_phases: list[Phase]) -> None:
        self.phases = all_phases
        self.log: list[tuple[str, float]] = []  # (sql, seconds) of the current request
        self.depth = 0
        self.spans: list[tuple[int, int, int, str]] = []  # (depth, first, end, label)

    def timed_statement(self, original: Callable, sql_of: Callable[..., str]) -> Callable:
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.log.append((sql_of(*args), time.perf_counter() - began))

        return wrapper

    def timed_phase(self, phase: Phase, original: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            first, began = len(self.log), time.perf_counter()
            self.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1
                end = len(self.log)
                phase.seconds += time.perf_counter() - began
                phase.statements += end - first
                phase.sql_seconds += sum(seconds for _, seconds in self.log[first:end])
                self.spans.append((self.depth, first, end, phase.label))

        return wrapper

    def innermost(self, index: int) -> str:
        """The deepest phase that was running when statement `index` was sent."""
        found = [(depth, label) for depth, first, end, label in self.spans if first <= index < end]
        return max(found)[1] if found else REST

    def start_request(self) -> None:
        self.log.clear()
        self.spans.clear()

    @contextmanager
    def installed(self) -> Iterator[None]:
        from django.db import connections
        from django.db.backends.utils import CursorWrapper

        wrapper = connections["default"]
        patches = [
            (CursorWrapper, "_execute", lambda _cursor, sql, *rest: sql),
            (CursorWrapper, "_executemany", lambda _cursor, sql, *rest: sql),
            (wrapper, "_commit", lambda *args: "COMMIT"),
        ]
        originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        for (owner, name, sql_of), (_, _, original) in zip(patches, originals, strict=True):
            setattr(owner, name, self.timed_statement(original, sql_of))
        originals += [(p.owner, p.name, getattr(p.owner, p.name)) for p in self.phases]
        for phase in self.phases:
            setattr(
                phase.owner, phase.name, self.timed_phase(phase, getattr(phase.owner, phase.name))
            )
        try:
            yield
        finally:
            for owner, name, original in reversed(originals):
                if owner is wrapper:
                    delattr(owner, name)  # back to the class's method
                else:
                    setattr(owner, name, original)


def shape(sql: str) -> str:
    """A statement with its literals and IN lists folded, short enough to read in a table."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\bs\d+_x\d+\b", "s…", sql)  # savepoint names
    sql = re.sub(r"%s|\b\d+(?:\.\d+)?\b", "?", sql)
    sql = re.sub(r"\((?:\s*\?\s*,)+\s*\?\s*\)", "(?…)", sql)
    sql = re.sub(r"(?:\(\?…\),\s*)+\(\?…\)", "(?…), …", sql)
    sql = re.sub(r'"[a-z_]+"\."([a-z_]+)"', r"\1", sql).replace('"', "")
    select = re.match(r"SELECT .*? FROM (\S+)(.*)", sql, re.S)
    if select:
        sql = f"SELECT … FROM {select.group(1)}{select.group(2)}"
    return " ".join(sql.split())[:96]


@dataclass
class Profile:
    sales: int = 0
    seconds: float = 0.0
    bare_seconds: float = 0.0  # as many sales again, without the instruments
    sql_seconds: float = 0.0
    statements: int = 0
    statuses: Counter = field(default_factory=Counter)
    # (the phase that sent it, statement shape) -> count, seconds
    shapes: Counter = field(default_factory=Counter)
    shape_seconds: defaultdict = field(default_factory=lambda: defaultdict(float))


def profile_in_process(shop: Shop, count: int, all_phases: list[Phase]) -> Profile:
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {shop.api_key}"})
    rng, result, recorder = random.Random(1), Profile(), Recorder(all_phases)
    post = sale_poster(client, "profile")
    for _ in range(50):  # warm caches and code paths first, as a running shop has them
        post(basket(rng, shop.members))
    began = time.perf_counter()
    for _ in range(count):
        post(basket(rng, shop.members))
    result.bare_seconds = time.perf_counter() - began
    with recorder.installed():
        for _ in range(count):
            body = basket(rng, shop.members)
            recorder.start_request()
            began = time.perf_counter()
            status = post(body)
            result.seconds += time.perf_counter() - began
            result.sales += 1
            result.statuses[status] += 1
            result.statements += len(recorder.log)
            for index, (sql, seconds) in enumerate(recorder.log):
                key = (recorder.innermost(index), shape(sql))
                result.shapes[key] += 1
                result.shape_seconds[key] += seconds
                result.sql_seconds += seconds
    return result


def sale_poster(client, label: str) -> Callable[[dict], int]:
    counter = iter(range(10**9))

    def post(body: dict) -> int:
        response = client.post(
            "/api/v1/sales",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": f"{label}-{next(counter)}"},
        )
        return response.status_code

    return post


def row(label: str, seconds: float, sql_seconds: float, statements: float) -> str:
    return (
        f"{label:<44} {1000 * seconds:7.2f} {1000 * sql_seconds:7.2f}"
        f" {1000 * (seconds - sql_seconds):7.2f} {statements:6.1f}"
    )


def print_profile(profile: Profile, all_phases: list[Phase]) -> None:
    n = max(profile.sales, 1)
    print(f"\n== Per sale, in process ({profile.sales} sales, statuses {dict(profile.statuses)})")
    print(f"{'phase (inclusive)':<44} {'ms':>7} {'SQL ms':>7} {'Py ms':>7} {'stmts':>6}")
    print(
        row("whole request", profile.seconds / n, profile.sql_seconds / n, profile.statements / n)
    )
    print(f"{'  (the same without the instruments)':<44} {1000 * profile.bare_seconds / n:7.2f}")
    top = [phase for phase in all_phases if phase.depth == 1]
    for phase in all_phases:
        label = "  " * phase.depth + phase.label
        print(row(label, phase.seconds / n, phase.sql_seconds / n, phase.statements / n))
    print(
        row(
            "  " + REST,
            (profile.seconds - sum(p.seconds for p in top)) / n,
            (profile.sql_seconds - sum(p.sql_seconds for p in top)) / n,
            (profile.statements - sum(p.statements for p in top)) / n,
        )
    )
    print("(SQL ms: from sending a statement to having its result, as the app waits for it;")
    print(" Py ms: the rest, mostly building ORM queries and model objects)")
    print("\n== Statements per sale, by the innermost phase that sent them")
    print(f"{'count':>6} {'ms':>6}  statement")
    for label in [phase.label for phase in all_phases] + [REST]:
        mine = [(key, count) for key, count in profile.shapes.items() if key[0] == label]
        if mine:
            print(f"-- {label}")
        for key, count in sorted(mine, key=lambda item: -item[1]):
            print(f"{count / n:6.2f} {1000 * profile.shape_seconds[key] / n:6.2f}  {key[1]}")


def area(filename: str) -> str:
    """Group a cProfile row by library / app, so the hot spots read at a glance."""
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        parts = path.split("site-packages/", 1)[1].split("/")
        if parts[0] == "django" and len(parts) > 3 and parts[1] == "db":
            return "/".join(parts[:3])
        depth = 2 if parts[0] in ("django", "ninja", "pydantic") and len(parts) > 2 else 1
        return "/".join(parts[:depth])
    if "/patron/" in path:
        return "patron/" + path.split("/patron/", 1)[1].split("/")[0]
    return "python (stdlib, builtins)"


def framework_floor(shop: Shop, count: int) -> None:
    """What the stack costs with almost no work: GET one sale (API key, one read, render)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from patron.sales.models import Sale

    client = Client(headers={"Authorization": f"Bearer {shop.api_key}"})
    path = f"/api/v1/sales/{Sale.objects.filter(merchant_id=shop.merchant_id).latest('pk').pk}"
    for _ in range(20):
        client.get(path)
    began = time.perf_counter()
    for _ in range(count):
        client.get(path)
    per_request = 1000 * (time.perf_counter() - began) / count
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    print(
        f"\n== Floor: GET {path} in process (API key, {len(captured)} statements, render):"
        f" {per_request:.2f} ms"
    )


def wsgi_environ(shop: Shop, body: bytes, key: str) -> dict[str, Any]:
    """What gunicorn hands the application for one POST /api/v1/sales."""
    import io

    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/sales",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {shop.api_key}",
        "HTTP_IDEMPOTENCY_KEY": key,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def cpu_per_sale(shop: Shop, count: int) -> None:
    """CPU one sale costs the app and PostgreSQL, through the WSGI application gunicorn serves
    (every middleware, no HTTP parsing), one at a time: steadier than the HTTP run on a busy
    machine because it counts CPU, not wall time. The figure to compare changes with."""
    from django.db import connection

    from patron.wsgi import application

    statuses: Counter = Counter()
    run = f"cpu-{os.getpid()}-{time.time_ns()}"  # fresh Idempotency-Keys on a reused database

    def start_response(status: str, headers: list) -> None:
        statuses[status.split()[0]] += 1

    def post(index: int, body: dict) -> None:
        data = json.dumps(body).encode()
        for chunk in application(wsgi_environ(shop, data, f"{run}-{index}"), start_response):
            del chunk

    # The handler closes connections older than CONN_MAX_AGE at a request's end: the backend
    # whose CPU is counted must stay the same for the whole measurement.
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = None
    rng = random.Random(3)
    bodies = [basket(rng, shop.members) for _ in range(count + 50)]
    for index, body in enumerate(bodies[:50]):  # warm caches and prepared statements
        post(index, body)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    app_before, pg_before = time.process_time(), cpu_seconds(backend)
    began = time.perf_counter()
    for index, body in enumerate(bodies[50:], start=50):
        post(index, body)
    wall = time.perf_counter() - began
    app, pg = time.process_time() - app_before, cpu_seconds(backend) - pg_before
    print(
        f"\n== CPU per sale through the WSGI application, one at a time ({count} sales,"
        f" {dict(statuses)}):\n   app {1000 * app / count:.2f} ms + PostgreSQL"
        f" {1000 * pg / count:.2f} ms = {1000 * (app + pg) / count:.2f} ms"
        f" (wall {1000 * wall / count:.2f} ms); 2 cores would allow"
        f" {2 * count / (app + pg):.0f} sales/s with nothing else running"
    )


def python_hot_spots(shop: Shop, count: int) -> None:
    """cProfile's own time by library, psycopg left out (its waits are SQL time, above).
    cProfile slows Python down two to three times: read the shares, not the milliseconds."""
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {shop.api_key}"})
    post, rng = sale_poster(client, "cprofile"), random.Random(2)
    bodies = [basket(rng, shop.members) for _ in range(count)]
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        post(body)
    profiler.disable()
    by_area: Counter = Counter()
    by_function: Counter = Counter()
    for (filename, line, function), (_, calls, own, _, _) in pstats.Stats(profiler).stats.items():
        where = area(filename)
        if where.startswith("psycopg"):
            continue
        by_area[where] += own
        by_function[(f"{where}: {function} ({Path(filename).name}:{line})", calls)] += own
    total = sum(by_area.values()) or 1
    print(
        f"\n== Python hot spots (cProfile, {count} sales; shares of Python time, psycopg excluded)"
    )
    for name, seconds in by_area.most_common(10):
        print(f"{100 * seconds / total:5.1f}%  {name}")
    print("-- top functions by own time")
    for (name, calls), seconds in by_function.most_common(12):
        print(f"{100 * seconds / total:5.1f}%  {calls / count:7.1f} calls/sale  {name}")


# --- 2. HTTP ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(
    port: int, workers: int, threads: int, kind: str, log_path: Path
) -> Iterator[subprocess.Popen]:
    """`patron serve` in its own process group, always stopped (SIGTERM, then SIGKILL)."""
    command = [
        sys.executable,
        "-m",
        "patron.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--server",
        kind,
        "--no-worker",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_listening(port, process)
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # gunicorn's graceful stop; workers follow
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any worker left behind in our group
    process.wait()


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"patron serve exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("patron serve did not answer in time")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_pids(leader: int) -> list[int]:
    """The server's master and its workers (they share its process group)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError, ProcessLookupError):
                if os.getpgid(int(entry.name)) == leader:
                    pids.append(int(entry.name))
    return pids


def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL's processes serving the bench database (the server's connections)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchall()
    return [pid for (pid,) in rows]


@dataclass
class CpuMeter:
    """CPU used by the app server, its PostgreSQL backends and this process over a window."""

    leader: int
    database_url: str
    start: dict[str, dict[int, float]] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {
            "app server": {pid: cpu_seconds(pid) for pid in group_pids(self.leader)},
            "PostgreSQL backends": {
                pid: cpu_seconds(pid) for pid in backend_pids(self.database_url)
            },
            "bench clients (this process)": {0: time.process_time()},
        }

    def begin(self) -> None:
        self.start = self.snapshot()

    def end(self) -> None:
        for name, now in self.snapshot().items():
            before = self.start.get(name, {})
            self.used[name] = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


@dataclass
class Outcome:
    ended: float
    seconds: float
    status: int
    code: str


def problem_code(data: bytes) -> str:
    try:
        return str(json.loads(data).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def till(
    index: int, port: int, shop: Shop, until: float, stop: threading.Event, out: list[Outcome]
) -> None:
    """One client: one keep-alive connection, requests back to back until `until`."""
    rng = random.Random(1000 + index)
    headers = {"Authorization": f"Bearer {shop.api_key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = 0
    while not stop.is_set() and time.perf_counter() < until:
        body = json.dumps(basket(rng, shop.members)).encode()
        began = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/sales",
                body,
                {**headers, "Idempotency-Key": f"http-{index}-{sent}"},
            )
            response = conn.getresponse()
            data = response.read()
            status, code = response.status, "" if response.status == 201 else problem_code(data)
        except (OSError, http.client.HTTPException) as error:
            status, code = 0, type(error).__name__
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ended = time.perf_counter()
        out.append(Outcome(ended, ended - began, status, code))  # list.append is atomic
        sent += 1
    conn.close()


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class HttpFigures:
    rate: float
    p50: float
    p90: float
    p99: float
    errors: Counter


def load(
    port: int, shop: Shop, clients: int, warmup: float, seconds: float, meter: CpuMeter
) -> HttpFigures:
    stop, outcomes = threading.Event(), []
    start = time.perf_counter()
    measured_from, until = start + warmup, start + warmup + seconds
    threads = [
        threading.Thread(target=till, args=(i, port, shop, until, stop, outcomes), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(max(measured_from - time.perf_counter(), 0))
        meter.begin()
        for thread in threads:
            thread.join()
        meter.end()
    finally:
        stop.set()
    window = [o for o in outcomes if measured_from <= o.ended <= until]
    committed = sorted(o.seconds * 1000 for o in window if o.status == 201)
    errors = Counter(f"{o.status} {o.code}".strip() for o in window if o.status != 201)
    return HttpFigures(
        rate=len(committed) / seconds,
        p50=percentile(committed, 0.50),
        p90=percentile(committed, 0.90),
        p99=percentile(committed, 0.99),
        errors=errors,
    )


# --- 3. pgbench ------------------------------------------------------------------------------


def pgbench(server_url: str, clients: int, seconds: int) -> float | None:
    parts = urlsplit(server_url)
    recreate_database(server_url, PGBENCH_DATABASE)
    connection = [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    subprocess.run(
        ["pgbench", "-i", "-s", "10", "-q", *connection, PGBENCH_DATABASE],
        env=env,
        check=True,
        capture_output=True,
    )
    run = subprocess.run(
        [
            "pgbench",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            *connection,
            PGBENCH_DATABASE,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    return float(found.group(1)) if found else None


def server_settings(database_url: str) -> str:
    import psycopg

    names = ("synchronous_commit", "fsync", "shared_buffers", "max_connections", "autovacuum")
    with psycopg.connect(database_url) as conn:
        values = [conn.execute(f"SHOW {name}").fetchone()[0] for name in names]
    return ", ".join(f"{name}={value}" for name, value in zip(names, values, strict=True))


# --- main ------------------------------------------------------------------------------------


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds (HTTP, pgbench)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument(
        "--history", type=int, default=3000, help="earlier sales committed before ANALYZE"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="request threads per worker")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--profile-sales", type=int, default=300)
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--profile-only", action="store_true", help="no HTTP run, no pgbench")
    parser.add_argument(
        "--cpu-only", action="store_true", help="only the CPU per sale through WSGI (quick A/B)"
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    args = parser.parse_args()
    # `kill`, `timeout` or a stopped make send SIGTERM: unwind like Ctrl-C, so the `finally`
    # blocks stop the server's process group.
    signal.signal(signal.SIGTERM, lambda number, _frame: sys.exit(128 + number))

    load_before = load_average()
    print(f"load average before (1/5/15 min): {load_before}  ({os.cpu_count()} cores)")
    data_dir = tempfile.mkdtemp(prefix="patron-bench-sales-")
    url = recreate_database(args.pg, DATABASE)
    configure(url, data_dir)
    print(f"PostgreSQL: {server_settings(url)}")
    began = time.perf_counter()
    shop = set_up_shop(args.members)
    make_history(shop, args.history)
    analyze(url)
    print(
        f"set-up: {args.members:,} members funded, {args.history:,} earlier sales, on {DATABASE}"
        f" in {time.perf_counter() - began:.0f} s (then VACUUM ANALYZE)"
    )

    if args.cpu_only:
        cpu_per_sale(shop, args.profile_sales)
        return
    all_phases = phases()
    print_profile(profile_in_process(shop, args.profile_sales, all_phases), all_phases)
    framework_floor(shop, args.profile_sales)
    python_hot_spots(shop, max(args.profile_sales // 3, 1))
    cpu_per_sale(shop, args.profile_sales)

    if args.profile_only:
        print(f"\nload average after (1/5/15 min): {load_average()}  (before: {load_before})")
        return
    from django.db import connections

    connections.close_all()  # the server's workers get their own connections
    port = free_port()
    log_path = Path(data_dir) / "serve.log"
    print(
        f"\n== HTTP: patron serve ({args.server}), {args.workers} workers"
        f" x {args.threads} threads, "
        f"{args.clients} keep-alive clients, {args.warmup} s warm-up + {args.seconds} s"
    )
    with server(port, args.workers, args.threads, args.server, log_path) as process:
        meter = CpuMeter(process.pid, url)
        figures = load(port, shop, args.clients, args.warmup, args.seconds, meter)
    print(f"committed sales/s : {figures.rate:8.1f}   (target >= {TARGET_RATE})")
    print(
        f"latency p50 / p90 / p99 : {figures.p50:.1f} / {figures.p90:.1f} / {figures.p99:.1f} ms"
        f"   (target p99 < {TARGET_P99_MS} ms)"
    )
    print(f"errors            : {dict(figures.errors) or 'none'}")
    print(f"server log        : {log_path}")
    committed = figures.rate * args.seconds
    if committed:
        print("CPU per committed sale (measured window):")
        for name, used in meter.used.items():
            print(f"  {name:<30} {1000 * used / committed:7.2f} ms")
        busy = meter.used["app server"] + meter.used["PostgreSQL backends"]
        print(
            f"  ceiling on {os.cpu_count()} cores with nothing else running:"
            f" {os.cpu_count() * committed / busy:.0f} sales/s (app + PostgreSQL CPU only)"
        )

    if not args.skip_pgbench:
        tps = pgbench(args.pg, args.clients, args.seconds)
        print(f"\n== pgbench TPC-B (-s 10, -c {args.clients} -j 2 -T {args.seconds}), same server")
        print(
            f"pgbench TPS       : {tps:8.1f}"
            if tps
            else "pgbench TPS       : not found in its output"
        )
        if tps:
            print(f"sales/s / pgbench TPS : {figures.rate / tps:.3f}")

    from patron.ledger.selectors import reconcile
    from patron.tenancy.models import Merchant

    differences = reconcile(Merchant.objects.get(pk=shop.merchant_id))
    print(f"\nreconcile after the run: {len(differences)} differences")
    print(f"load average after (1/5/15 min): {load_average()}  (before: {load_before})")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted (the server, if started, has been stopped)")
        sys.exit(130)
