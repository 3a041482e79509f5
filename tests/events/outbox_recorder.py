"""A test consumer of the outbox for the kill -9 test: records each event it is handed in
`outbox_test_delivered` (a table the test creates), keyed by uid as a real consumer must
be, slowly enough that the test can kill the worker in the middle of a batch."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.db import connection

if TYPE_CHECKING:  # this module is imported while the app registry fills: no models yet
    from patron.events.models import Event

TABLE = "outbox_test_delivered"
DELAY = float(os.environ.get("OUTBOX_TEST_DELAY", "0"))


def record(event: Event) -> None:
    time.sleep(DELAY)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (uid, event_id, member_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (uid) DO NOTHING",
            [str(event.uid), event.pk, event.member_id],
        )


class RecorderConfig(AppConfig):
    name = "tests.events"
    label = "outbox_test_recorder"

    def ready(self) -> None:
        from patron.events.dispatch import add_consumer

        add_consumer("test-recorder", record)
