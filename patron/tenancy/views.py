"""Console pages for the merchant's own set-up: stores, staff, API keys, audit log.

Views read through selectors and write through `patron.tenancy.services` only; a service's
FieldErrors come back onto the form next to the input they concern.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.core.counting import row_count
from patron.core.dates import start_of_day
from patron.core.errors import DomainError
from patron.core.keyset import console_page
from patron.core.money import yuan_plain
from patron.tenancy import logins, services
from patron.tenancy.actor import Actor
from patron.tenancy.audit_display import object_type_label, present_entries
from patron.tenancy.forms import (
    ApiKeyForm,
    AuditFilterForm,
    PasswordResetForm,
    StaffCreateForm,
    StaffEditForm,
    StoreForm,
    StoreRefundLimitForm,
)
from patron.tenancy.models import Role, Staff
from patron.tenancy.permissions import AUDIT_ROLES, require_role
from patron.tenancy.selectors import (
    audit_entries,
    audit_object_types,
    merchant_api_keys,
    merchant_staff,
    merchant_stores,
    staff_for_user,
)

PAGE_SIZE = 50
AUDIT_ORDERING = ("-at", "-id")  # AuditEntry.Meta.ordering, read by the (merchant, at, id) index


# --- log-in ----------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The log-in page; after it each role lands where its work is (settings.PATRON_LANDING:
    a cashier on the till, HQ and managers on the console home)."""

    template_name = "tenancy/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        wanted = super().get_redirect_url()
        # `?next=/` is only the home page the log-in was reached from: the role's landing wins.
        return "" if wanted == resolve_url("home") else wanted

    def get_default_redirect_url(self) -> str:
        staff = staff_for_user(self.request.user)
        landing = settings.PATRON_LANDING.get(staff.role) if staff is not None else None
        return resolve_url(landing or settings.LOGIN_REDIRECT_URL)


# --- stores ----------------------------------------------------------------------------------


@require_role(Role.HQ_ADMIN)
def store_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tenancy/store_list.html", {"stores": merchant_stores(request.actor)})


@require_role(Role.HQ_ADMIN)
def store_create(request: HttpRequest) -> HttpResponse:
    initial = {"refund_approval_above": yuan_input(services.DEFAULT_REFUND_APPROVAL)}
    form = StoreForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.create_store(request.actor, **form.cleaned_data)
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Store %(store)s created.") % {"store": store})
            return redirect("store_list")
    return render(request, "tenancy/store_form.html", {"form": form, "store": None})


def yuan_input(fen: int | None) -> str:
    return "" if fen is None else yuan_plain(fen)


STORE_EDIT_FIELDS = ("code", "name", "address", "phone", "refund_approval_above")


@require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)
def store_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """HQ edits any store; a store manager only their own store's refund approval limit."""
    actor: Actor = request.actor
    store = get_object_or_404(merchant_stores(actor), pk=pk)
    manager = actor.store_bound is not None
    if manager and store.pk != actor.store_bound.pk:
        raise Http404
    initial = {field: getattr(store, field) for field in STORE_EDIT_FIELDS}
    initial["refund_approval_above"] = yuan_input(store.refund_approval_above)
    if manager:
        form = StoreRefundLimitForm(request.POST or None, initial=initial)
    else:
        form = StoreForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        # A field the post did not carry at all stays as it is (empty means "never ask").
        changes = {
            key: form.cleaned_data[key]
            for key in form.fields
            if key != "code" and key in request.POST
        }
        try:
            services.update_store(actor, store, **changes)
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Store %(store)s saved.") % {"store": store})
            return redirect("store_edit", pk=store.pk) if manager else redirect("store_list")
    context = {"form": form, "store": store, "manager": manager}
    return render(request, "tenancy/store_form.html", context)


def set_store_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    store = get_object_or_404(merchant_stores(request.actor), pk=pk)
    services.update_store(request.actor, store, is_active=active)
    if active:
        messages.success(request, _("Store %(store)s is active again.") % {"store": store})
    else:
        messages.success(request, _("Store %(store)s deactivated.") % {"store": store})
    return redirect("store_list")


@require_POST
@require_role(Role.HQ_ADMIN)
def store_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return set_store_active(request, pk, active=False)


@require_POST
@require_role(Role.HQ_ADMIN)
def store_activate(request: HttpRequest, pk: int) -> HttpResponse:
    return set_store_active(request, pk, active=True)


# --- staff -----------------------------------------------------------------------------------


def with_locks(rows: list[Staff]) -> list[Staff]:
    """Each row's `locked_until`: when its log-in lock ends, or None."""
    locks = logins.staff_locks(row.user.get_username() for row in rows)
    for row in rows:
        row.locked_until = locks.get(row.user.get_username())
    return rows


@require_role(Role.HQ_ADMIN)
def staff_list(request: HttpRequest) -> HttpResponse:
    rows = with_locks(list(merchant_staff(request.actor)))
    return render(request, "tenancy/staff_list.html", {"staff_rows": rows})


@require_role(Role.HQ_ADMIN)
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None, merchant=request.actor.merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            staff = services.create_staff(
                request.actor,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                store=data["store"],
                full_name=data["full_name"],
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("%(user)s can now log in.") % {"user": staff.user})
            return redirect("staff_list")
    return render(request, "tenancy/staff_create.html", {"form": form})


def self_lockout_error(actor: Actor, staff: Staff, role: str, is_active: bool) -> str | None:
    """An HQ admin must not take away their own access by mistake."""
    if staff.pk != actor.staff.pk:
        return None
    if not is_active:
        return _("You cannot deactivate yourself; ask another HQ admin.")
    if role != Role.HQ_ADMIN:
        return _("You cannot remove your own HQ admin role; ask another HQ admin.")
    return None


@require_role(Role.HQ_ADMIN)
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(merchant_staff(request.actor), pk=pk)
    initial = {"role": staff.role, "store": staff.store, "is_active": staff.is_active}
    form = StaffEditForm(request.POST or None, initial=initial, merchant=request.actor.merchant)
    password_form = PasswordResetForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        problem = self_lockout_error(request.actor, staff, data["role"], data["is_active"])
        if problem:
            form.add_error(None, problem)
        else:
            try:
                services.update_staff(
                    request.actor,
                    staff,
                    role=data["role"],
                    store=data["store"],
                    is_active=data["is_active"],
                )
            except DomainError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("%(user)s saved.") % {"user": staff.user})
                return redirect("staff_list")
    with_locks([staff])
    context = {"form": form, "password_form": password_form, "target": staff}
    return render(request, "tenancy/staff_edit.html", context)


@require_POST
@require_role(Role.HQ_ADMIN)
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(merchant_staff(request.actor), pk=pk)
    if services.unlock_login(request.actor, staff):
        messages.success(request, _("%(user)s can log in again.") % {"user": staff.user})
    else:
        messages.info(request, _("%(user)s was not locked.") % {"user": staff.user})
    if request.POST.get("back") == "edit":  # unlocked from the staff's own page
        return redirect("staff_edit", staff.pk)
    return redirect("staff_list")


@require_POST
@require_role(Role.HQ_ADMIN)
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    staff = get_object_or_404(merchant_staff(request.actor), pk=pk)
    password_form = PasswordResetForm(request.POST)
    if password_form.is_valid():
        try:
            services.update_staff(
                request.actor, staff, password=password_form.cleaned_data["password"]
            )
        except DomainError as problem:
            password_form.add_service_errors(problem)
        else:
            messages.success(request, _("New password set for %(user)s.") % {"user": staff.user})
            return redirect("staff_list")
    initial = {"role": staff.role, "store": staff.store, "is_active": staff.is_active}
    form = StaffEditForm(initial=initial, merchant=request.actor.merchant)
    with_locks([staff])
    context = {"form": form, "password_form": password_form, "target": staff}
    return render(request, "tenancy/staff_edit.html", context, status=422)


# --- API keys --------------------------------------------------------------------------------


@require_role(Role.HQ_ADMIN)
def apikey_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tenancy/apikey_list.html", {"keys": merchant_api_keys(request.actor)})


@require_role(Role.HQ_ADMIN)
def apikey_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, plain = services.create_api_key(request.actor, form.cleaned_data["name"])
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            response = render(request, "tenancy/apikey_created.html", {"key": key, "plain": plain})
            # The plain key is shown exactly once: never let a cache or the back button keep it.
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "tenancy/apikey_form.html", {"form": form})


@require_POST
@require_role(Role.HQ_ADMIN)
def apikey_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(merchant_api_keys(request.actor), pk=pk)
    services.revoke_api_key(request.actor, key)
    messages.success(request, _("API key %(key)s revoked.") % {"key": key.name})
    return redirect("apikey_list")


# --- audit log -------------------------------------------------------------------------------


def object_type_choices(actor: Actor) -> list[tuple[str, str]]:
    types = audit_object_types(actor)
    return sorted(((t, object_type_label(t)) for t in types), key=lambda pair: pair[1])


def filter_audit(entries: QuerySet, filters: dict) -> QuerySet:
    """Days are ranges of moments in the merchant's zone (the view runs in it), so the
    (merchant, at) index finds them; `at__date` would compute a date for every row."""
    if "object_type" in filters:
        entries = entries.filter(object_type=filters["object_type"])
    if "action" in filters:
        entries = entries.filter(action=filters["action"])
    if "date_from" in filters:
        entries = entries.filter(at__gte=start_of_day(filters["date_from"]))
    if "date_to" in filters:
        entries = entries.filter(at__lt=start_of_day(filters["date_to"] + dt.timedelta(days=1)))
    return entries


@require_role(*AUDIT_ROLES)
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = AuditFilterForm(request.GET or None, object_types=object_type_choices(actor))
    entries = filter_audit(audit_entries(actor), form.valid_filters() if request.GET else {})
    shown = console_page(entries, AUDIT_ORDERING, PAGE_SIZE, request.GET.get("cursor"))
    context = {
        "form": form,
        "page": shown.page,
        "cursor_ignored": shown.ignored,
        "count": row_count(entries),
        "rows": present_entries(shown.page.items, actor.merchant),
    }
    return render(request, "tenancy/audit_log.html", context)
