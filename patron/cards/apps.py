from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "patron.cards"
    label = "cards"

    def ready(self) -> None:
        from patron.cards import program

        program.register()
