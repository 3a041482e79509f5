from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "patron.promotions"
    label = "promotions"

    def ready(self) -> None:
        from patron.promotions.program import register

        register()
