from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "patron.ledger"
    label = "ledger"
