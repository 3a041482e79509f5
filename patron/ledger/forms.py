"""Console forms of the ledger's own pages (the liabilities report)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, DayField


class LiabilitiesForm(ConsoleForm):
    # Bounded (DayField): the report runs to the end of the day, which 9999-12-31 has not.
    as_of = DayField(
        label=_("As of the end of"),
        required=False,
        help_text=_("Leave empty for now."),
    )
