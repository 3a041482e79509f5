from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """Chains, alliances and staff (API.md §12): settlement between stores, commissions,
    clearing between merchants."""

    name = "patron.network"
    label = "network"

    def ready(self) -> None:
        from patron.network import alliance_wiring, commission_wiring, settlement_wiring

        for part in (settlement_wiring, commission_wiring, alliance_wiring):
            part.register()
