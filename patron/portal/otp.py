"""One-time SMS codes of the member pages: ask for one, check one (issue 18 §2).

A code is 6 digits from `secrets`; only an HMAC of it is kept (the secret key, a salt of the
row, the merchant, mobile and purpose), so a leaked table gives no usable codes. The
OneTimeCode rows are also the limiter's memory, so the limits hold across processes.
Refusals raise CodeRefused (a DomainError with a stable code and a message for the page) and
write nothing, except a wrong answer, which counts against its code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from patron.core.errors import DomainError, FieldError, ValidationFailed
from patron.members.validation import Invalid, normalize_mobile
from patron.portal import sms
from patron.portal.models import OneTimeCode
from patron.tenancy.models import Merchant

CODE_DIGITS = 6
CODE_TTL = dt.timedelta(minutes=5)
MAX_TRIES = 5  # wrong answers a code survives; with 10**6 codes, guessing is hopeless
RESEND_AFTER = dt.timedelta(seconds=60)
# SMS cost money and annoy: a person needs a code or two a day, a few more when one is lost.
PER_MOBILE_HOUR = 5
PER_MOBILE_DAY = 10
# Higher than per mobile: a store's Wi-Fi puts every customer joining there behind one address.
PER_IP_HOUR = 30
# Wrong answers to codes asked from one address in an hour: beyond a few typos per person,
# someone is guessing across many mobiles.
FAILED_PER_IP_HOUR = 30
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


class CodeRefused(DomainError):
    """A code was not sent, or an answer not accepted; `wait` is the seconds to wait, if any."""

    def __init__(self, detail: str, code: str, wait: int = 0, tries_left: int | None = None):
        super().__init__(detail=detail, code=code, status=429 if wait else 400)
        self.wait = wait
        self.tries_left = tries_left


@dataclass(frozen=True)
class Sent:
    mobile: str  # the normalized mobile the code went to
    expires_at: dt.datetime


def clean_mobile(raw: object) -> str:
    """The 11-digit mainland mobile, or ValidationFailed on field `mobile`."""
    try:
        return normalize_mobile(raw)
    except Invalid as problem:
        raise ValidationFailed([FieldError("mobile", str(problem))]) from None


def _hash(merchant_id: int, mobile: str, purpose: str, code: str, salt: str) -> str:
    message = f"{salt}:{merchant_id}:{mobile}:{purpose}:{code}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def _matches(row: OneTimeCode, code: str) -> bool:
    salt = row.code_hash.split("$", 1)[0]
    expected = _hash(row.merchant_id, row.mobile, row.purpose, code, salt)
    return hmac.compare_digest(expected, row.code_hash)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def resend_wait(
    merchant: Merchant, mobile: str, purpose: str, now: dt.datetime | None = None
) -> int:
    """Seconds before another code may be sent to `mobile` (0: now)."""
    now = now or timezone.now()
    last = (
        OneTimeCode.objects.filter(merchant=merchant, mobile=mobile, purpose=purpose)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return 0
    left = (last + RESEND_AFTER - now).total_seconds()
    return max(0, int(left + 0.999))


def _limit_refusal(merchant: Merchant, mobile: str, ip: str | None, now: dt.datetime) -> None:
    mine = OneTimeCode.objects.filter(merchant=merchant, mobile=mobile)
    if (
        mine.filter(created_at__gt=now - HOUR).count() >= PER_MOBILE_HOUR
        or mine.filter(created_at__gt=now - DAY).count() >= PER_MOBILE_DAY
    ):
        raise CodeRefused(
            _("Too many codes were sent to this mobile. Please try again later."), "too_many_codes"
        )
    if ip and OneTimeCode.objects.filter(ip=ip, created_at__gt=now - HOUR).count() >= PER_IP_HOUR:
        raise CodeRefused(
            _("Too many codes were asked from this network. Please try again later."),
            "too_many_codes_ip",
        )


def request_code(
    merchant: Merchant,
    raw_mobile: object,
    purpose: str,
    *,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Sent:
    """Send a new code to the mobile (older ones of this purpose die), or raise.

    Refused with nothing written: not a mainland mobile (ValidationFailed), no SMS channel,
    too soon after the last code, a limit reached, or the provider failed."""
    mobile = clean_mobile(raw_mobile)
    if not sms.can_send(merchant):
        raise CodeRefused(
            _("Codes cannot be sent by SMS here yet. Please ask at the store."), "sms_unavailable"
        )
    row, code = _reserve(merchant, mobile, purpose, ip, now or timezone.now())
    try:
        sms.send_code(merchant, mobile, code, int(CODE_TTL.total_seconds() // 60))
    except sms.SmsFailed:
        # An unsent code must neither count against the limits nor block a resend.
        OneTimeCode.objects.filter(pk=row.pk).delete()
        raise CodeRefused(
            _("The SMS could not be sent. Please try again in a moment."), "sms_failed"
        ) from None
    # Only the latest code is ever checked; ending the older ones says so in the table too.
    OneTimeCode.objects.filter(
        merchant=merchant,
        mobile=mobile,
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gt=row.created_at,
    ).exclude(pk=row.pk).update(expires_at=row.created_at)
    return Sent(mobile=mobile, expires_at=row.expires_at)


@transaction.atomic
def _reserve(
    merchant: Merchant, mobile: str, purpose: str, ip: str | None, now: dt.datetime
) -> tuple[OneTimeCode, str]:
    """Check the wait and the limits and keep the new code's row, or raise.

    The merchant's row is locked for these few statements only (never during the SMS call),
    so two quick taps cannot both pass the limits."""
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
    wait = resend_wait(merchant, mobile, purpose, now)
    if wait:
        message = ngettext(
            "A code was just sent. You can ask for another in %(seconds)d second.",
            "A code was just sent. You can ask for another in %(seconds)d seconds.",
            wait,
        ) % {"seconds": wait}
        raise CodeRefused(message, "resend_too_soon", wait=wait)
    _limit_refusal(merchant, mobile, ip, now)
    code = new_code()
    row = OneTimeCode.objects.create(
        merchant=merchant,
        mobile=mobile,
        purpose=purpose,
        code_hash=_hash(merchant.pk, mobile, purpose, code, secrets.token_hex(8)),
        ip=ip,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    return row, code


def _failed_from_ip(ip: str | None, now: dt.datetime) -> int:
    if not ip:
        return 0
    rows = OneTimeCode.objects.filter(ip=ip, created_at__gt=now - HOUR)
    return rows.aggregate(total=Sum("tries"))["total"] or 0


def verify_code(
    merchant: Merchant,
    raw_mobile: object,
    code: object,
    purpose: str,
    *,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Accept `code` for the mobile and use it up; return the mobile, or raise CodeRefused.

    Only the latest code of the mobile and purpose counts. A wrong answer is counted on it
    (that write is kept); after MAX_TRIES the code is dead."""
    mobile = clean_mobile(raw_mobile)
    now = now or timezone.now()
    answer = str(code or "").strip()
    if _failed_from_ip(ip, now) >= FAILED_PER_IP_HOUR:
        raise CodeRefused(
            _("Too many wrong codes from this network. Please try again later."),
            "too_many_failures",
        )
    row = (
        OneTimeCode.objects.filter(merchant=merchant, mobile=mobile, purpose=purpose)
        .order_by("-created_at", "-pk")
        .first()
    )
    if row is None or row.used_at is not None:
        raise CodeRefused(_("Ask for a code first."), "no_code")
    if row.tries >= MAX_TRIES:
        raise CodeRefused(
            _("This code was entered wrongly too many times. Ask for a new code."), "code_dead"
        )
    if row.expires_at <= now:
        raise CodeRefused(_("This code has expired. Ask for a new code."), "code_expired")
    if not (len(answer) == CODE_DIGITS and answer.isascii() and answer.isdigit()) or not _matches(
        row, answer
    ):
        raise _wrong(row)
    used = OneTimeCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    if used != 1:  # the same code sent twice at once: only one of them logs in
        raise CodeRefused(_("Ask for a code first."), "no_code")
    return mobile


def _wrong(row: OneTimeCode) -> CodeRefused:
    OneTimeCode.objects.filter(pk=row.pk).update(tries=F("tries") + 1)
    left = MAX_TRIES - row.tries - 1
    if left <= 0:
        return CodeRefused(
            _("Wrong code, and no tries are left. Ask for a new code."), "code_dead", tries_left=0
        )
    message = ngettext(
        "Wrong code. %(left)d try left.", "Wrong code. %(left)d tries left.", left
    ) % {"left": left}
    return CodeRefused(message, "code_wrong", tries_left=left)
