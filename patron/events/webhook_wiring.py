"""Registers the webhooks consumer of the outbox (the webhooks part fills this in)."""


def register() -> None:
    return None
