"""What the engine part registers: the program section `campaigns` (merchant-wide defaults)
and the sentences the audit log shows for campaigns."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from patron.campaigns import engine_program
    from patron.tenancy.audit_display import add_sentence

    engine_program.register()
    add_sentence("campaign", "create", _("Created campaign %(object)s"))
    add_sentence("campaign", "update", _("Changed campaign %(object)s"))
    add_sentence("campaign", "update", _("Set campaign %(object)s to %(status)s"), when="status")
