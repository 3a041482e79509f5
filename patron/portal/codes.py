"""The member's codes on the card page (F-20): a QR holding the till's signed token and a
barcode holding short random digits, both good for CODE_TTL seconds.

The QR token (patron.sales.services.member_qr_token) is about 70 characters: far too long for a
Code128 barcode a hand scanner reads off a phone. The barcode therefore carries DIGITS random
digits stored in DynamicCode; the till reads them through the identifier registered with
patron.members.hooks, which refuses a stale code the way sales refuses a stale QR token.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import barcode
import segno
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from patron.cards.card_wiring import refuse_lost
from patron.core.errors import DomainError
from patron.core.text import ascii_digits
from patron.members.models import Member
from patron.portal.models import DynamicCode
from patron.sales.services import QR_MAX_AGE, member_qr_token
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

DIGITS = 18
CODE_TTL = QR_MAX_AGE  # one lifetime for both codes: the page refreshes them together
# Rows outlive their code this long so the till can answer "expired" rather than "not found".
KEPT_AFTER_EXPIRY = dt.timedelta(hours=1)
TRIES = 5  # fresh digits after a clash with a live code (one in 10^18: never in practice)
# The page asks for new codes this long before they expire, so a code on screen always has
# time left for the cashier to scan it (card.js; the <noscript> refresh too).
REFRESH_BEFORE = 10
BAR_HEIGHT = 60  # in modules: the barcode is drawn on a viewBox and scaled by CSS


@dataclass(frozen=True)
class MemberCodes:
    """What the card page shows: the QR and barcode as inline SVG, and what they carry."""

    token: str
    digits: str
    expires_at: dt.datetime
    qr_svg: str
    barcode_svg: str

    @property
    def expires_in(self) -> int:
        return max(0, round((self.expires_at - timezone.now()).total_seconds()))

    @property
    def refresh_in(self) -> int:
        return max(1, self.expires_in - REFRESH_BEFORE)

    @property
    def digits_shown(self) -> str:
        """The digits in groups of six, as printed under the barcode for typing them in."""
        return " ".join(self.digits[at : at + 6] for at in range(0, len(self.digits), 6))

    def as_json(self) -> dict[str, object]:
        return {
            "qr_svg": self.qr_svg,
            "barcode_svg": self.barcode_svg,
            "digits": self.digits,
            "digits_shown": self.digits_shown,
            "expires_in": self.expires_in,
            "refresh_in": self.refresh_in,
        }


def member_codes(actor: Actor, member: Member) -> MemberCodes:
    """A fresh QR token and barcode code for `member` (the member's own page asks)."""
    token, expires_at = member_qr_token(actor, member)
    code = issue_code(member)
    return MemberCodes(
        token=token,
        digits=code.digits,
        expires_at=min(expires_at, code.expires_at),
        qr_svg=qr_svg(token),
        barcode_svg=barcode_svg(code.digits),
    )


def issue_code(member: Member) -> DynamicCode:
    """New random digits naming `member` for CODE_TTL; long-expired rows are cleared."""
    now = timezone.now()
    DynamicCode.objects.filter(expires_at__lt=now - KEPT_AFTER_EXPIRY).delete()
    for attempt in range(TRIES):
        try:
            with transaction.atomic():
                return DynamicCode.objects.create(
                    merchant_id=member.merchant_id,
                    member=member,
                    digits=random_digits(),
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=CODE_TTL),
                )
        except IntegrityError:
            if attempt == TRIES - 1:
                raise
    raise AssertionError("unreachable")


def random_digits() -> str:
    # A leading 9 keeps the code clear of mobiles (1…) and of short card numbers and ids.
    return "9" + "".join(secrets.choice("0123456789") for _ in range(DIGITS - 1))


def identify(merchant: Merchant, text: str) -> Member | None:
    """members.hooks identifier: the member a barcode code names, at the till.

    Anything that is not DIGITS digits is not ours (None). An unknown code is None too, so the
    till answers "not found" as for any unknown number; a stale one is 422 `qr_expired`, the
    answer to a stale QR token; a member whose card is reported lost is refused (409)."""
    digits = ascii_digits(str(text or "").strip())
    if digits is None or len(digits) != DIGITS:
        return None
    found = DynamicCode.objects.filter(merchant=merchant, digits=digits)
    code = found.select_related("member").first()
    if code is None:
        return None
    if code.expires_at <= timezone.now():
        raise DomainError(
            _("This member code has expired: ask the member to refresh it."), "qr_expired", 422
        )
    refuse_lost(merchant.pk, code.member_id)
    return code.member


# --- drawing ---------------------------------------------------------------------------------


def qr_svg(token: str) -> str:
    """The token as an inline SVG QR (class "qr"), sized by CSS through its viewBox."""
    return segno.make(token, error="m").svg_inline(
        scale=1,
        border=2,
        svgclass="qr",
        lineclass=None,
        omitsize=True,
        title=_("Member QR code"),
    )


def barcode_svg(digits: str) -> str:
    """The digits as a Code128 barcode in inline SVG: one path, no style attributes (CSP).

    python-barcode encodes the modules; its own SVG writer puts a style="" on every bar, which
    the page's Content-Security-Policy would refuse, so the bars are drawn here."""
    modules = barcode.get("code128", digits).build()[0]
    quiet = 10
    width = len(modules) + 2 * quiet
    bars = []
    at = 0
    while at < len(modules):
        if modules[at] == "1":
            run = len(modules[at:]) - len(modules[at:].lstrip("1"))
            bars.append(f"M{quiet + at} 0h{run}v{BAR_HEIGHT}h-{run}z")
            at += run
        else:
            at += 1
    label = escape(_("Member barcode"))
    return (
        f'<svg class="barcode" viewBox="0 0 {width} {BAR_HEIGHT}" preserveAspectRatio="none"'
        f' role="img" aria-label="{label}"><path fill="#000" d="{"".join(bars)}"/></svg>'
    )
