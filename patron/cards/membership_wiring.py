"""What the membership part of cards registers with the apps below it (hooks, guards, profile facts
and panels, audit sentences, import columns), called once from CardsConfig.ready()."""

from __future__ import annotations


def register() -> None:
    from patron.cards.membership_views import membership_panel
    from patron.members import profile
    from patron.tenancy import audit_display

    profile.add_panel(profile.Panel("side", membership_panel, order=15))
    audit_display.add_object_type("membership", _membership_word())


def _membership_word():
    from django.utils.translation import gettext_lazy

    return gettext_lazy("paid membership")
