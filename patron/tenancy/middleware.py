from __future__ import annotations

import ipaddress

from django.conf import settings

from patron.tenancy.actor import Actor
from patron.tenancy.selectors import staff_for_user


def client_ip(request) -> str | None:
    """The client's address, for the audit log and the per-address log-in lock.

    REMOTE_ADDR, unless PATRON_PROXY_COUNT reverse proxies stand in front: then the address the
    outermost of them saw, counted from the right of X-Forwarded-For, because each proxy
    appends to the header whatever the client wrote into it. Trusting the left end let anyone
    choose their address, and so escape the per-address lock.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.PATRON_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not an address (the audit's column stores addresses only)
        return remote


class CurrentStaffMiddleware:
    """Attach `request.staff` and `request.actor` for logged-in console users."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.staff = None
        request.actor = None
        if not request.path.startswith(("/api/", "/static/")):
            staff = staff_for_user(request.user)
            if staff is not None:
                request.staff = staff
                request.actor = Actor(
                    merchant=staff.merchant,
                    staff=staff,
                    ip=client_ip(request),
                    channel="console",
                )
        return self.get_response(request)
