"""What the apps above sales add to a sale's receipt page (the result of a till sale).

Sales stands below cards (and the apps to come): they register a panel here from their
AppConfig.ready() and the receipt renders each one above the refund panel, e.g. the offer to
enrol the customer of an anonymous sale. A panel returns "" when it has nothing to say.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from patron.sales.models import Sale

ReceiptPanel = Callable[[HttpRequest, "Sale"], SafeString | str]

_panels: list[ReceiptPanel] = []


def add_receipt_panel(fn: ReceiptPanel) -> None:
    if fn not in _panels:  # ready() may run more than once in tests
        _panels.append(fn)


def rendered(request: HttpRequest, sale: Sale) -> list[SafeString | str]:
    return [html for html in (panel(request, sale) for panel in _panels) if html]
