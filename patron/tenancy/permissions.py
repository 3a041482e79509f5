"""Who may open which console page.

Every console view is wrapped in `console_view` (or `require_role`, which includes it):
the user must be logged in and be active staff of a merchant, and pages render in the
merchant's time zone so dates, "today" and date filters mean the merchant's day.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from patron.tenancy.models import Role

View = Callable[..., HttpResponse]

# Roles that may read the audit log: HQ sees every entry, a store manager their store's.
AUDIT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)


def merchant_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # A zone name the system no longer knows must not take the whole console down.
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def console_view(view: View) -> View:
    """Login required; users without a staff role get a friendly page instead of a crash."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        actor = getattr(request, "actor", None)
        if actor is None:
            return render(request, "tenancy/no_access.html", status=403)
        with timezone.override(merchant_zone(actor.merchant.timezone)):
            return view(request, *args, **kwargs)

    return wrapper


def require_role(*roles: str) -> Callable[[View], View]:
    """Limit a console view to some roles; everyone else gets the 403 page."""

    def decorator(view: View) -> View:
        @console_view
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.actor.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def may_read_audit(role: str | None) -> bool:
    return role in AUDIT_ROLES
