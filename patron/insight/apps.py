from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "patron.insight"
    label = "insight"

    def ready(self) -> None:
        from patron.insight import (
            feedback_wiring,
            history_wiring,
            lifecycle_wiring,
            segment_wiring,
            stats_wiring,
            value_wiring,
        )

        for part in (
            stats_wiring,
            lifecycle_wiring,
            value_wiring,
            segment_wiring,
            feedback_wiring,
            history_wiring,
        ):
            part.register()
