"""What every channel adapter is: `send(batch) -> results`, one result per message, in order.

An adapter talks to one provider with the merchant's settings (channel_program.stored) and
never touches the database: `channels.send` gives it `Outgoing` items and writes the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message as the provider needs it."""

    message_id: int
    address: str  # mobile, email address or openid
    body: str
    subject: str = ""
    language: str = "zh-hans"
    template: str = ""  # provider template code ("" = the section's generic template)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """The provider's answer for one message: its id there, or an error code (failed)."""

    message_id: int
    provider_id: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class Adapter(Protocol):
    name: str

    def send(self, batch: Sequence[Outgoing]) -> list[Result]: ...


def failed_all(batch: Sequence[Outgoing], error: str) -> list[Result]:
    """The same error for each message of `batch` (the request itself failed)."""
    return [Result(item.message_id, error=error[:300]) for item in batch]


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
