from django.apps import AppConfig


class ServerConfig(AppConfig):
    """Running Patron: `patron serve` (web server and embedded job worker) and `patron worker`,
    and `/healthz`."""

    name = "patron.server"
    label = "server"

    def ready(self) -> None:
        from patron.server.jobs import connect

        connect()  # every job the worker runs records its last run
