from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "patron.cards"
    label = "cards"

    def ready(self) -> None:
        from patron.cards import (
            card_wiring,
            enrol_wiring,
            import_wiring,
            membership_wiring,
            program,
            tier_wiring,
        )

        program.register()
        for part in (card_wiring, tier_wiring, membership_wiring, enrol_wiring, import_wiring):
            part.register()
