"""Who may open which console page.

Every console view is wrapped in `console_view` (or `require_role`, which includes it):
the user must be logged in and be active staff of a merchant, and pages render in the
merchant's time zone so dates, "today" and date filters mean the merchant's day.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
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


def htmx_login_redirect(request: HttpRequest) -> HttpResponse:
    """An htmx request whose session ended: send the whole page to the login form.

    A plain redirect would be followed by htmx and the login page swapped into the middle
    of the page that asked (e.g. into the member table).
    """
    response = HttpResponse(status=204)
    response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{REDIRECT_FIELD_NAME}="
    response["HX-Redirect"] += quote(request.htmx.current_url_abs_path or request.get_full_path())
    return response


def console_view(view: View) -> View:
    """Login required; users without a staff role get a friendly page instead of a crash."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and getattr(request, "htmx", False):
            return htmx_login_redirect(request)
        return logged_in_view(request, *args, **kwargs)

    @login_required
    def logged_in_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
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
