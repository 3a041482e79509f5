"""The inbox: the message is the row itself, read on the member's pages; sent at once."""

from __future__ import annotations

from collections.abc import Sequence

from patron.campaigns.channels.base import Outgoing, Result


class Inbox:
    name = "inbox"

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        return [Result(item.message_id, provider_id=str(item.message_id)) for item in batch]
