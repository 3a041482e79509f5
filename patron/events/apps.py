from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The transactional outbox (API.md §9 event types) and the signed webhooks it feeds."""

    name = "patron.events"
    label = "events"

    def ready(self) -> None:
        from patron.events import webhook_wiring

        webhook_wiring.register()
