from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "patron.sales"
    label = "sales"

    def ready(self) -> None:
        from patron.sales.program import register

        register()
