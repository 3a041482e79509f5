from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Campaigns, journeys, channels, caps, holdouts (API.md §9)."""

    name = "patron.campaigns"
    label = "campaigns"

    def ready(self) -> None:
        from patron.campaigns import channel_wiring, delivery_wiring, journey_wiring

        for part in (channel_wiring, delivery_wiring, journey_wiring):
            part.register()
        from patron.campaigns.services import live_campaigns
        from patron.promotions.store_activities import register_live_counter

        register_live_counter(live_campaigns)  # a store's own campaigns count towards max_live
