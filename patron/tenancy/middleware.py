from __future__ import annotations

from patron.tenancy.actor import Actor
from patron.tenancy.selectors import staff_for_user


def client_ip(request) -> str | None:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR")) or None


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
