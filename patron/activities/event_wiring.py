"""What the member-only events part registers at start-up: its scheduled reminder job and
how the audit log names its entries."""

from django.utils.translation import gettext_lazy


def register() -> None:
    """Called once from ActivitiesConfig.ready()."""
    from patron.activities import event_tasks  # noqa: F401  (declares the periodic task)
    from patron.tenancy import audit_display
    from patron.tenancy.models import AuditEntry

    audit_display.add_object_type("memberonlyevent", gettext_lazy("member-only event"))
    audit_display.add_sentence(
        "memberonlyevent",
        AuditEntry.Action.VIEW,
        gettext_lazy("Viewed the full mobiles of the sign-ups of %(object)s"),
    )
