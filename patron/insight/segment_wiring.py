"""What the segment part of insight registers with the apps below and the refresh."""

from django.utils.translation import gettext_lazy

from patron.insight import segments
from patron.members import exporting
from patron.tenancy import audit_display


def register() -> None:
    """Called once from InsightConfig.ready()."""
    # `patron export members --segment NAME` and the console's segment export resolve here.
    exporting.set_segment_resolver(segments.resolve_for_export)
    audit_display.add_object_type("segment", gettext_lazy("segment"))
