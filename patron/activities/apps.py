from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Points mall, lottery, check-in, referral, member-only events (API.md §11)."""

    name = "patron.activities"
    label = "activities"

    def ready(self) -> None:
        from patron.activities import checkin_wiring, event_wiring, lottery_wiring, mall_wiring

        for part in (mall_wiring, lottery_wiring, checkin_wiring, event_wiring):
            part.register()
