"""The journeys' consumer of the outbox: every event type a journey may start on."""

from patron.events.dispatch import add_consumer


def register() -> None:
    from patron.campaigns import journeys  # models are ready only now

    add_consumer("journeys", journeys.on_event, journeys.TRIGGER_EVENTS)
