from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Campaigns, journeys, channels, caps, holdouts (API.md §9)."""

    name = "patron.campaigns"
    label = "campaigns"

    def ready(self) -> None:
        from patron.campaigns import channel_wiring, delivery_wiring, journey_wiring

        for part in (channel_wiring, delivery_wiring, journey_wiring):
            part.register()
