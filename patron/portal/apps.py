from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The member's own pages (H5) and the staff pages that serve them."""

    name = "patron.portal"
    label = "portal"
