"""How a one-time code reaches the member's phone: PATRON_SMS_BACKEND "log" or "channel".

- `log` writes one INFO line naming the full mobile and the code to the logger
  "patron.portal.sms" (the server log): for demos and tests, never for real members.
- `channel` (the default) sends through the merchant's campaigns SMS channel (program section
  `channels.sms`): with its optional `login_template` (a verification template with one
  variable `code`) when set, else the text through its generic `template_code`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext as _

from patron.campaigns.channel_program import stored
from patron.campaigns.channels import adapter
from patron.campaigns.channels.base import Adapter, Outgoing
from patron.tenancy.models import Merchant

logger = logging.getLogger("patron.portal.sms")
LOG, CHANNEL = "log", "channel"


class SmsFailed(Exception):
    """The provider refused or could not be reached; the code was not sent."""


def backend() -> str:
    return LOG if getattr(settings, "PATRON_SMS_BACKEND", CHANNEL) == LOG else CHANNEL


def _channel(merchant: Merchant) -> tuple[Adapter | None, dict]:
    config = stored(merchant)
    return adapter("sms", config), config.get("sms") or {}


def can_send(merchant: Merchant) -> bool:
    """Whether codes can reach members of `merchant` at all (checked before anything is kept)."""
    return backend() == LOG or _channel(merchant)[0] is not None


def code_text(merchant: Merchant, code: str, minutes: int) -> str:
    return _(
        "%(code)s is your %(merchant)s membership code, valid for %(minutes)d minutes. "
        "Do not give it to anyone."
    ) % {"code": code, "merchant": merchant.name, "minutes": minutes}


def send_code(merchant: Merchant, mobile: str, code: str, minutes: int) -> None:
    """Send `code` to `mobile`, or raise SmsFailed."""
    if backend() == LOG:
        logger.info("SMS code for %s at %s: %s", mobile, merchant.slug, code)
        return
    sender, section = _channel(merchant)
    if sender is None:
        raise SmsFailed("not_configured")
    template = section.get("login_template") or ""
    outgoing = Outgoing(
        message_id=0,
        address=mobile,
        body=code_text(merchant, code, minutes),
        template=template,
        params={"code": code} if template else {},
    )
    result = sender.send([outgoing])[0]
    if not result.ok:
        # The provider's error code only: never the code itself.
        logger.warning("SMS code to %s****%s failed: %s", mobile[:3], mobile[-4:], result.error)
        raise SmsFailed(result.error)
