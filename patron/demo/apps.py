from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo merchant: a hotel and restaurant chain with members and a year of sales, built
    through every app's services (the top floor: it may use them all)."""

    name = "patron.demo"
    label = "demo"
