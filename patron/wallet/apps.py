from django.apps import AppConfig


class WalletConfig(AppConfig):
    """The member's stored value and points as the counter and the API handle them."""

    name = "patron.wallet"
    label = "wallet"

    def ready(self) -> None:
        from patron.members import profile
        from patron.wallet import profile as wallet_profile
        from patron.wallet.views import value_panel

        profile.add_panel(profile.Panel("side", value_panel, order=10))
        wallet_profile.register()
