"""Sending a one-off campaign to a 100,000-member segment (issue 17; target >= 1,000 messages/s).

    .venv/bin/python bench/campaign_send.py [--members 100000]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_campaigns]
        [--redis redis://127.0.0.1:6379/13] [--workers 1,2] [--keep]

Creates a fresh PostgreSQL database, one merchant, N members with SMS consent and a saved
segment of them all, and a local fake SMS provider (an HTTP server on 127.0.0.1 that answers
each batch with message ids). Then:

1. in this process (jobs run as they are queued): the campaign is launched, its run goes
   through `delivery.contact` in chunks and the sending job posts each batch to the fake
   provider; prints the wall time and messages per second;
2. with --redis: the same on the inbox channel, the chunks spread over 1 and then 2
   `patron worker` processes (Redis queue); prints each wall time, messages/s and how many
   chunks each worker process ran.

Until the channels part's `channels.send` exists, SMS goes to the fake through a small
adapter here (one POST per batch, then the batch marked sent). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_postgres, migrated_django  # noqa: E402


class FakeSms(BaseHTTPRequestHandler):
    """Answers a batch {"messages": [{"id", "mobile", "text"}]} with one id per message."""

    received = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeSms.received += len(body["messages"])
        answer = json.dumps({"code": "OK", "ids": [f"F{m['id']}" for m in body["messages"]]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args) -> None:
        return None


def fake_provider() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSms)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/send"


def install_bench_sender(url: str) -> str:
    """The channels part's `send` when it is there; else post batches to the fake here."""
    import httpx
    from django.utils import timezone

    from patron.campaigns import channels
    from patron.campaigns.models import Message

    if getattr(channels, "send", None) is not None:
        return "channels.send"
    client = httpx.Client(timeout=10)

    def send(messages) -> None:
        batch = [{"id": m.pk, "mobile": m.member.mobile, "text": m.body} for m in messages]
        client.post(url, json={"messages": batch}).raise_for_status()
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(
            status=Message.Status.SENT, sent_at=timezone.now(), provider="bench"
        )

    channels.send = send
    return "bench adapter (channels.send not there yet)"


def setup(count: int):
    from django.db import connection
    from django.utils import timezone

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
    segment = Segment.objects.create(merchant=merchant, name="全部会员", filter={"all": []})
    return Actor.system(merchant), segment


def campaign_body(segment, channel: str, name: str) -> dict:
    return {
        "name": name,
        "kind": "once",
        "audience": {"segment": segment.pk},
        "actions": [{"type": "message", "channel": channel, "template": "{name}，会员日快乐"}],
        "holdout_percent": 10,
    }


def sent_count(campaign) -> int:
    from patron.campaigns.models import Message

    return Message.objects.filter(campaign=campaign, status="sent").count()


def in_process(actor, segment) -> None:
    from huey.contrib.djhuey import HUEY

    from patron.campaigns import services

    campaign = services.create_campaign(actor, campaign_body(segment, "sms", "bench sms"))
    HUEY.immediate = True
    start = time.perf_counter()
    services.launch(actor, campaign)  # on commit: every chunk, then every send batch
    wall = time.perf_counter() - start
    HUEY.immediate = False
    sent = sent_count(campaign)
    print(f"in process, sms to fake provider: {sent} sent in {wall:.1f} s = {sent / wall:,.0f}/s")
    print(f"  fake provider received {FakeSms.received} messages")


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
    time.sleep(3)  # workers connected
    campaign = services.create_campaign(
        actor, campaign_body(segment, "inbox", f"bench inbox x{workers}")
    )
    start = time.perf_counter()
    services.launch(actor, campaign)
    run = CampaignRun.objects.get(campaign=campaign)
    while run.status != "done":
        time.sleep(0.2)
        run.refresh_from_db()
    expected = campaign.targets.filter(group="treated").count()  # one message each
    while sent_count(campaign) < expected:
        time.sleep(0.2)
    wall = time.perf_counter() - start
    sent = sent_count(campaign)
    for proc in procs:
        proc.send_signal(signal.SIGINT)
    for proc in procs:
        proc.wait(timeout=30)
    chunks = [log.read_text().count("contact_chunk") for log in logs]
    print(
        f"redis, {workers} worker process(es), inbox: {sent} sent of {expected} targeted in "
        f"{wall:.1f} s = {sent / wall:,.0f}/s; log lines naming contact_chunk per worker {chunks}"
    )
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_campaigns")
    parser.add_argument("--redis", default="")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = fresh_postgres(args.pg, args.database)
    if args.redis:
        os.environ["PATRON_REDIS_URL"] = args.redis
    migrated_django(url, "bench-campaigns")
    provider = fake_provider()
    print(f"sender: {install_bench_sender(provider)}")
    actor, segment = setup(args.members)
    print(f"{args.members:,} members, segment of all, holdout 10 %")
    in_process(actor, segment)
    if args.redis:
        from huey.contrib.djhuey import HUEY

        HUEY.storage.flush_all()
        env = {**os.environ, "PATRON_DATABASE_URL": url, "PATRON_REDIS_URL": args.redis}
        for workers in (int(w) for w in args.workers.split(",")):
            with_workers(actor, segment, workers, env)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(args.pg.rstrip("/") + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
