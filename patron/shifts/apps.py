from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    """The cashier's shift close (交班): what a shift took in, by tender, frozen when closed."""

    name = "patron.shifts"
    label = "shifts"
