from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The console's home page: figures from every app (the top floor may read them all)."""

    name = "patron.home"
    label = "home"
