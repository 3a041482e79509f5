from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The member's own pages (H5) and the staff pages that serve them."""

    name = "patron.portal"
    label = "portal"

    def ready(self) -> None:
        from patron.members import hooks
        from patron.portal import codes

        # The barcode's short code names the member at the till (sales identify, F-20).
        hooks.add_identifier(codes.identify)
