from django.apps import AppConfig


class WhatIfConfig(AppConfig):
    """What if (API.md §13): a draft program replayed over recorded sales before it is applied."""

    name = "patron.whatif"
    label = "whatif"

    def ready(self) -> None:
        from patron.whatif import cli

        cli.register()
