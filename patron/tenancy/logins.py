"""Console log-in locks (django-axes): when a lock ends, which staff are locked, and the page a
locked-out log-in gets (`tenancy.services` audits lockouts and unlocks).

django-axes counts failed log-ins per user name and per IP address (settings: AXES_*); five
within the cool-off lock the user name, or the address, until the newest of those failures is
older than the cool-off. A refusal during a lock is not counted again
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so the end shown is the real end.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext

from patron.tenancy.models import Merchant, Staff
from patron.tenancy.permissions import merchant_zone

ATTEMPT = ("attempt_time", "failures_since_start")  # what a lock's end is computed from
LOCKED_STATUS = 429  # Too Many Requests: the login page itself, with the message


def cool_off() -> dt.timedelta:
    return settings.AXES_COOLOFF_TIME


def lock_end(attempts: Iterable[tuple[dt.datetime, int]]) -> dt.datetime | None:
    """When a lock over these attempts (time of the latest failure, failures) ends, or None.

    Newest first, the attempt at which the failures reach the limit is the one that holds the
    lock: once it (and everything older) leaves the cool-off window, fewer are left.
    """
    total = 0
    for at, failures in sorted(attempts, key=lambda attempt: attempt[0], reverse=True):
        total += failures
        if total >= settings.AXES_FAILURE_LIMIT:
            return at + cool_off()
    return None


def recent_attempts(now: dt.datetime):
    return AccessAttempt.objects.filter(attempt_time__gte=now - cool_off())


def locked_until(
    username: str | None, ip: str | None, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When log-ins with this user name from this address may be tried again (None: now)."""
    now = now or timezone.now()
    recent = recent_attempts(now)
    ends = []
    if username:
        ends.append(lock_end(recent.filter(username=username).values_list(*ATTEMPT)))
    if ip:
        ends.append(lock_end(recent.filter(ip_address=ip).values_list(*ATTEMPT)))
    return max((end for end in ends if end is not None and end > now), default=None)


def staff_locks(usernames: Iterable[str], now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """{user name: lock end} for the locked ones: locked by name, or by an address they
    failed from that is locked (a store's network after failures on several names)."""
    now = now or timezone.now()
    recent = recent_attempts(now)
    own = recent.filter(username__in=list(usernames))
    by_user: dict[str, list] = defaultdict(list)
    ips_of: dict[str, set[str]] = defaultdict(set)
    for username, ip, at, failures in own.values_list("username", "ip_address", *ATTEMPT):
        by_user[username].append((at, failures))
        ips_of[username].add(ip)
    by_ip: dict[str, list] = defaultdict(list)
    all_ips = set().union(*ips_of.values()) if ips_of else set()
    shared = recent.filter(ip_address__in=all_ips).values_list("ip_address", *ATTEMPT)
    for ip, at, failures in shared:
        by_ip[ip].append((at, failures))
    locks = {}
    for username, attempts in by_user.items():
        ends = [lock_end(attempts), *(lock_end(by_ip[ip]) for ip in ips_of[username])]
        end = max((e for e in ends if e is not None and e > now), default=None)
        if end is not None:
            locks[username] = end
    return locks


def unlock(username: str, merchant: Merchant) -> int:
    """Forget the failures of this user name, and those from the addresses it failed from
    except on other merchants' staff names: one merchant's HQ lifts no other merchant's lock.
    Returns how many attempt records went. `tenancy.services.unlock_login` audits it."""
    failed_from = recent_attempts(timezone.now()).filter(username=username)
    ips = set(failed_from.values_list("ip_address", flat=True))
    others = Staff.objects.exclude(merchant=merchant).values("user__username")
    attempts = AccessAttempt.objects.filter(
        Q(username=username) | Q(ip_address__in=ips) & ~Q(username__in=others)
    )
    removed, _per_model = attempts.delete()
    return removed


def zone_for(username: str | None) -> ZoneInfo:
    """The zone of the merchant whose staff has this user name; else the server's default,
    which is every merchant's default, so the message reads the same for unknown names."""
    staff = (
        Staff.objects.select_related("merchant").filter(user__username=username).first()
        if username
        else None
    )
    return merchant_zone(staff.merchant.timezone if staff else settings.TIME_ZONE)


def lock_message(until: dt.datetime, zone: ZoneInfo, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    at = date_format(until.astimezone(zone), "H:i")
    return ngettext(
        "Too many failed log-ins: logging in is locked until %(time)s (in %(minutes)d minute). "
        "Try again then, or ask your HQ admin to unlock your account.",
        "Too many failed log-ins: logging in is locked until %(time)s (in %(minutes)d minutes). "
        "Try again then, or ask your HQ admin to unlock your account.",
        minutes,
    ) % {"time": at, "minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, with when the lock ends."""
    username = get_client_username(request, credentials) or ""
    ip = getattr(request, "axes_ip_address", None)
    until = locked_until(username, ip) or timezone.now() + cool_off()
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "lockout": lock_message(until, zone_for(username)),
    }
    return render(request, "tenancy/login.html", context, status=LOCKED_STATUS)
