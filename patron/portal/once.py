"""The one-time key of a member page's form that moves something (report lost, redeem, draw):
a fresh key in each page, sent back as the service's idempotency key, so a double tap or a
resent form does it once."""

from __future__ import annotations

import re
import secrets

from django.http import HttpRequest
from django.utils.translation import gettext as _

FIELD = "once"  # the hidden input's name in the templates
SHAPE = re.compile(r"[0-9a-f]{32}")


def new_key() -> str:
    return secrets.token_hex(16)


def posted(request: HttpRequest, prefix: str) -> str:
    """`prefix-<key>` for the service, or "" when the form sent no key of the right shape."""
    key = request.POST.get(FIELD, "")
    return f"{prefix}-{key}" if SHAPE.fullmatch(key) else ""


def expired() -> str:
    return _("The form has expired: please try again.")
