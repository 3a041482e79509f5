"""What the channel part registers below and with the outbox (filled in by that part)."""


def register() -> None:
    return None
