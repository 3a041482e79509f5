"""The engine's jobs: contact a chunk of a run's audience, send queued messages after commit,
release messages held for quiet hours, and pick up queued messages a lost job left behind.

With Redis (PATRON_REDIS_URL) the chunks of one run spread over every `patron worker`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from patron.campaigns import delivery
from patron.campaigns.models import CampaignRun, Message

SEND_BATCH = 500
STALE_AFTER = dt.timedelta(minutes=2)


@db_task()
def contact_chunk(run_id: int, generation: str, member_ids: list[int]) -> int:
    """Contact one chunk of a run; dropped when the run was started again since (resume).
    `generation` is the run's start time as queued (ISO); it is compared as an instant, so a
    start time given in any zone matches the one the database gives back (in UTC)."""
    run = CampaignRun.objects.select_related("campaign").filter(pk=run_id).first()
    if run is None or run.started_at != dt.datetime.fromisoformat(generation):
        return 0
    if run.campaign.status not in delivery.SENDING:
        return 0  # paused or cancelled: resume starts the run again
    reached = delivery.contact(run.campaign, member_ids, occurrence=run.occurrence, run=run)
    delivery.record_progress(run_id, len(member_ids))
    return reached


def wake_sender(message_ids: Sequence[int]) -> None:
    """Queue the sending of these messages, in batches (called after commit)."""
    ids = list(message_ids)
    for start in range(0, len(ids), SEND_BATCH):
        send_messages(ids[start : start + SEND_BATCH])


def deliver(message_ids: Sequence[int]) -> int:
    """Send those of the messages still queued through the channels part's `send` (network
    calls: outside any transaction); how many were handed to it."""
    from patron.campaigns import channels

    messages = list(Message.objects.filter(pk__in=list(message_ids), status=Message.Status.QUEUED))
    if messages:
        channels.send(messages)
    return len(messages)


@db_task()
def send_messages(message_ids: list[int]) -> int:
    return deliver(message_ids)


def send_all(message_ids: Sequence[int]) -> int:
    ids = list(message_ids)
    return sum(deliver(ids[i : i + SEND_BATCH]) for i in range(0, len(ids), SEND_BATCH))


@db_periodic_task(crontab(minute="*"))
def release_held_messages() -> int:
    """Quiet hours over: send what was held."""
    return send_all(delivery.release_held())


@db_periodic_task(crontab(minute="*/5"))
def send_stale_queued() -> int:
    """Queued messages whose sending job was lost (a worker killed before it ran)."""
    before = timezone.now() - STALE_AFTER
    ids = Message.objects.filter(status=Message.Status.QUEUED, created_at__lt=before).values_list(
        "pk", flat=True
    )[:10_000]
    return send_all(list(ids))
