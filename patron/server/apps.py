from django.apps import AppConfig


class ServerConfig(AppConfig):
    """Running Patron: `patron serve` (web server and embedded job worker) and `patron worker`."""

    name = "patron.server"
    label = "server"
