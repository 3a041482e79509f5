from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "patron.ledger"
    label = "ledger"

    def ready(self) -> None:
        from patron.ledger import audit
        from patron.ledger.program import register

        register()
        audit.register()
