"""Sending a one-off SMS campaign to a 100,000-member segment (issue 17: the worker sends at
least 1,000 messages per second to a local fake provider; with Redis the work spreads over
several `patron worker` processes).

    .venv/bin/python bench/campaign_send.py [--members 100000] [--provider http|aliyun]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_campaigns]
        [--redis redis://127.0.0.1:6379/13] [--workers 1,2] [--profile] [--keep]

Creates a fresh PostgreSQL database, one merchant, N members with SMS consent, a saved segment
of them all, and a local fake SMS provider of the channels part (tests/campaigns/fakes.py: the
plain JSON gateway, or Aliyun's SendBatchSms with its signature checked) configured as the
merchant's `channels.sms`. Everything goes through the real pipeline: `services.launch` ->
`delivery.start_run` -> one `send_tasks.contact_chunk` job per chunk (`delivery.contact`:
targets, holdout 10 %, consent, messages) -> `send_tasks.send_messages` (`channels.send`:
the adapter's HTTP calls, rows marked sent, `message.sent` events).

In this process (jobs run as they are queued):
1. contact: the run's chunks with sending held back; targets and messages written per second;
2. sending: the messages of step 1 through `send_tasks.send_all`; messages sent per second;
3. end to end: another campaign, launched with sending woken after each chunk as in
   production; messages sent per second from launch to the last one.
With --redis: end to end again with 1 and then 2 `patron worker` processes taking the jobs
from Redis; each worker's share of the chunks. With --profile: cProfile of steps 1 and 2.

Every figure is printed with `os.getloadavg()`: the machine is shared. Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_postgres, migrated_django  # noqa: E402


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def figure(label: str, count: int, seconds: float) -> None:
    rate = count / seconds if seconds else 0.0
    print(f"{label:<52} {count:>7,} in {seconds:6.1f} s = {rate:7,.0f}/s   ({load()})", flush=True)


def profiled(enabled: bool, label: str, fn: Callable[[], object]) -> object:
    if not enabled:
        return fn()
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(40)
    print(f"--- profile of {label} (by own time, then cumulative in patron and huey) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    return result


def start_fake(provider: str):
    from tests.campaigns.fakes import FakeAliyun, FakeGateway

    fake = FakeAliyun() if provider == "aliyun" else FakeGateway()
    return fake.start()


def setup(count: int, fake):
    from django.db import connection
    from django.utils import timezone

    from patron.campaigns.channel_program import save
    from patron.insight.models import Segment
    from patron.members.models import Member
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant

    merchant = create_merchant("bench", "Bench Co")
    joined = timezone.now()
    for start in range(1, count + 1, 10_000):
        Member.objects.bulk_create(
            Member(
                merchant=merchant,
                card_no=f"C{n:08d}",
                mobile=f"139{n:08d}",
                name=f"会员{n}",
                referral_code=f"R{n:08d}",
                joined_at=joined,
                consent_sms=True,
            )
            for n in range(start, min(start + 10_000, count + 1))
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    save(merchant, {"sms": fake.settings()})
    segment = Segment.objects.create(merchant=merchant, name="全部会员", filter={"all": []})
    return Actor.system(merchant), segment


def campaign_body(segment, name: str) -> dict:
    return {
        "name": name,
        "kind": "once",
        "audience": {"segment": segment.pk},
        "actions": [{"type": "message", "channel": "sms", "template": "{name}，本周六会员日"}],
        "holdout_percent": 10,
        "caps": {},
        "quiet_hours": [],
    }


def counts(campaign) -> tuple[int, int, int]:
    """(targets, messages, messages sent) of the campaign."""
    from patron.campaigns.models import Message, Target

    messages = Message.objects.filter(campaign=campaign)
    return (
        Target.objects.filter(campaign=campaign).count(),
        messages.count(),
        messages.filter(status="sent").count(),
    )


def in_process(actor, segment, profile: bool) -> None:
    from huey.contrib.djhuey import HUEY

    from patron.campaigns import send_tasks, services
    from patron.campaigns.models import Message
    from patron.events.dispatch import dispatch_pending

    # 1: contact, the run's chunks with sending held back.
    campaign = services.create_campaign(actor, campaign_body(segment, "bench contact"))
    wake = send_tasks.wake_sender
    send_tasks.wake_sender = lambda ids: None
    HUEY.immediate = True
    try:
        start = time.perf_counter()
        profiled(profile, "contact", lambda: services.launch(actor, campaign))
        contact_wall = time.perf_counter() - start
    finally:
        send_tasks.wake_sender = wake
        HUEY.immediate = False
    targets, messages, _sent = counts(campaign)
    figure("contact: targets written", targets, contact_wall)
    figure("contact: messages written (queued)", messages, contact_wall)

    # 2: sending those messages; the outbox dispatcher it wakes is queued, not run here.
    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    start = time.perf_counter()
    profiled(profile, "sending", lambda: send_tasks.send_all(ids))
    figure(
        "sending: messages sent to the fake provider",
        counts(campaign)[2],
        time.perf_counter() - start,
    )
    HUEY.storage.flush_all()

    # 2b: the outbox dispatching the message.sent events sending wrote (consumers: webhooks,
    # journeys); in production a job of its own on the same workers.
    start = time.perf_counter()
    dispatched = profiled(profile, "outbox dispatch", dispatch_pending)
    figure("outbox: message.sent events dispatched", dispatched, time.perf_counter() - start)

    # 3: end to end, sending woken after each chunk and the outbox after each batch.
    campaign = services.create_campaign(actor, campaign_body(segment, "bench end to end"))
    HUEY.immediate = True
    start = time.perf_counter()
    services.launch(actor, campaign)
    wall = time.perf_counter() - start
    HUEY.immediate = False
    figure("end to end in process (outbox included): sent", counts(campaign)[2], wall)


def with_workers(actor, segment, workers: int, env: dict) -> None:
    from django.db import connection

    from patron.campaigns import services
    from patron.campaigns.models import CampaignRun

    logs = [ROOT / "var" / f"bench-worker-{workers}-{i}.log" for i in range(workers)]
    procs = [
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "patron"), "worker", "--workers", "1"],
            env=env,
            stdout=open(log, "w"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    time.sleep(4)  # workers connected
    campaign = services.create_campaign(actor, campaign_body(segment, f"bench x{workers}"))
    start = time.perf_counter()
    services.launch(actor, campaign)
    run = CampaignRun.objects.get(campaign=campaign)
    while run.status != "done":
        time.sleep(0.2)
        run.refresh_from_db()
    expected = campaign.targets.filter(group="treated").count()  # one message each
    while counts(campaign)[2] < expected:
        time.sleep(0.2)
    wall = time.perf_counter() - start
    for proc in procs:
        proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    chunks = [log.read_text().count("contact_chunk") for log in logs]
    figure(f"redis, {workers} worker process(es): messages sent", counts(campaign)[2], wall)
    print(f"  log lines naming contact_chunk per worker: {chunks}", flush=True)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--provider", choices=("http", "aliyun"), default="http")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_campaigns")
    parser.add_argument("--redis", default="")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = fresh_postgres(args.pg, args.database)
    if args.redis:
        os.environ["PATRON_REDIS_URL"] = args.redis
    migrated_django(url, "bench-campaigns")
    fake = start_fake(args.provider)
    actor, segment = setup(args.members, fake)
    print(
        f"{args.members:,} members with SMS consent, segment of all, holdout 10 %, "
        f"fake provider {args.provider} ({load()})",
        flush=True,
    )
    in_process(actor, segment, args.profile)
    if args.redis:
        from huey.contrib.djhuey import HUEY

        HUEY.storage.flush_all()
        env = {**os.environ, "PATRON_DATABASE_URL": url, "PATRON_REDIS_URL": args.redis}
        for workers in (int(w) for w in args.workers.split(",")):
            with_workers(actor, segment, workers, env)
    print(f"fake provider received {len(fake.sent):,} messages in {fake.requests:,} requests")
    fake.stop()
    if not args.keep:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(args.pg.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
