"""Join (/m/join, F-03), log in by one-time SMS code (/m/login), log out, the privacy policy.

Everything works without JavaScript: each step is a plain POST form. The session keeps, per
merchant, the mobile a log-in code was sent to, the join form waiting for its code, and a
mobile proven by a code (so a visitor who logged in with an unknown mobile joins without a
second code).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from patron.core.errors import Conflict, DomainError, ValidationFailed
from patron.members.models import Member
from patron.portal import joining, otp
from patron.portal.auth_forms import JOIN_ERROR_FIELDS, CodeForm, JoinForm, MobileForm
from patron.portal.models import OneTimeCode
from patron.portal.session import (
    CHANNEL,
    current_member,
    login_member,
    logout_member,
    merchant_page,
    with_merchant,
)
from patron.tenancy.actor import Actor
from patron.tenancy.middleware import client_ip
from patron.tenancy.models import Merchant

LOGIN_PENDING = "portal.login_mobile"  # {merchant id: mobile a log-in code went to}
JOIN_PENDING = "portal.join_pending"  # {merchant id: register_member input awaiting its code}
PROVEN = "portal.proven"  # {merchant id: {"mobile": ..., "at": epoch seconds}}
PROOF_SECONDS = 30 * 60  # time to fill the join form after proving a mobile at log-in


# --- session helpers --------------------------------------------------------------------------


def _get(request: HttpRequest, key: str, merchant: Merchant) -> Any:
    return (request.session.get(key) or {}).get(str(merchant.pk))


def _put(request: HttpRequest, key: str, merchant: Merchant, value: Any) -> None:
    values = dict(request.session.get(key) or {})
    if value is None:
        values.pop(str(merchant.pk), None)
    else:
        values[str(merchant.pk)] = value
    request.session[key] = values


def proven_mobile(request: HttpRequest, merchant: Merchant) -> str:
    proof = _get(request, PROVEN, merchant) or {}
    if proof and time.time() - proof.get("at", 0) < PROOF_SECONDS:
        return proof.get("mobile", "")
    return ""


def _prove(request: HttpRequest, merchant: Merchant, mobile: str) -> None:
    _put(request, PROVEN, merchant, {"mobile": mobile, "at": int(time.time())})


def safe_next(request: HttpRequest) -> str:
    """`next` when it is a path of the member pages on this site, else ""."""
    target = (request.POST.get("next") or request.GET.get("next") or "").strip()
    if not target.startswith("/m/") and target != "/m":
        return ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return ""
    return target


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context = {"merchant": request.merchant, "tab": "", **context}
    return render(request, template, context, status=status)


def _to(request: HttpRequest, name: str, **params: str) -> str:
    query = {k: v for k, v in params.items() if v}
    url = reverse(name) + (f"?{urlencode(query)}" if query else "")
    return with_merchant(url, request.merchant)


def _actor(request: HttpRequest) -> Actor:
    return Actor(merchant=request.merchant, ip=client_ip(request), channel=CHANNEL)


# --- log in -----------------------------------------------------------------------------------


@merchant_page
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: the mobile; a code is sent whether or not it belongs to a member."""
    merchant, next_path = request.merchant, safe_next(request)
    if request.method == "GET" and current_member(request, merchant) is not None:
        return redirect(next_path or _to(request, "portal:card"))
    form = MobileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        mobile = form.cleaned_data["mobile"]
        try:
            otp.request_code(merchant, mobile, OneTimeCode.Purpose.LOGIN, ip=client_ip(request))
        except otp.CodeRefused as refused:
            if (
                refused.code != "resend_too_soon"
                or _get(request, LOGIN_PENDING, merchant) != mobile
            ):
                form.add_error(None, refused.detail)
                return _page(request, "portal/login.html", {"form": form, "next": next_path})
            messages.warning(request, refused.detail)  # the last code is still good
        else:
            messages.success(
                request, _("We sent a 6-digit code to %(mobile)s.") % {"mobile": mobile}
            )
        _put(request, LOGIN_PENDING, merchant, mobile)
        return redirect(_to(request, "portal:login_code", next=next_path))
    return _page(request, "portal/login.html", {"form": form, "next": next_path})


@merchant_page
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code; a member is logged in, anyone else goes on to join."""
    merchant, next_path = request.merchant, safe_next(request)
    mobile = _get(request, LOGIN_PENDING, merchant) or ""
    form = CodeForm(request.POST or None, initial={"mobile": mobile})
    if request.method == "POST" and form.is_valid():
        mobile = form.cleaned_data.get("mobile") or mobile
        try:
            otp.verify_code(
                merchant,
                mobile,
                form.cleaned_data["code"],
                OneTimeCode.Purpose.LOGIN,
                ip=client_ip(request),
            )
        except (otp.CodeRefused, ValidationFailed) as refused:
            form.add_error("code", _refusal_text(refused))
        else:
            _put(request, LOGIN_PENDING, merchant, None)
            return _after_proof(request, mobile, next_path)
    if not mobile:
        return redirect(_to(request, "portal:login", next=next_path))
    context = {
        "form": form,
        "mobile": mobile,
        "next": next_path,
        "wait": otp.resend_wait(merchant, mobile, OneTimeCode.Purpose.LOGIN),
    }
    return _page(request, "portal/login_code.html", context)


def _refusal_text(refused: DomainError) -> str:
    if isinstance(refused, ValidationFailed) and refused.errors:
        return str(refused.errors[0].message)
    return str(refused.detail)


def _after_proof(request: HttpRequest, mobile: str, next_path: str) -> HttpResponse:
    member = joining.existing_member(request.merchant, mobile)
    if member is not None:
        login_member(request, member)
        return redirect(next_path or _to(request, "portal:card"))
    _prove(request, request.merchant, mobile)
    messages.info(request, _("Your mobile is verified. Join us to see your membership."))
    return redirect(_to(request, "portal:join"))


# --- join -------------------------------------------------------------------------------------


@merchant_page
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Sign up (F-03): step 1 the form, step 2 the SMS code; then the member is logged in."""
    merchant = request.merchant
    if current_member(request, merchant) is not None:
        messages.info(request, _("You are already a member and logged in."))
        return redirect(_to(request, "portal:card"))
    store_code = (request.GET.get("store") or "").strip()
    store = joining.join_store(merchant, store_code) if store_code else None
    if store_code and store is None:
        context = {"store_error": True, "store_code": store_code}
        return _page(request, "portal/join.html", context, status=404)
    pending = _get(request, JOIN_PENDING, merchant)
    if (
        request.method == "POST"
        and pending
        and ("code" in request.POST or "resend" in request.POST)
    ):
        return _join_code_step(request, pending)
    proven = proven_mobile(request, merchant)
    form = JoinForm(request.POST or None, initial={"mobile": proven})
    if request.method == "POST" and form.is_valid():
        data = joining.payload(
            form.member_data(), store.code if store else "", request.GET.get("ref", "")
        )
        if _checked(request, form, data):
            if data["mobile"] == proven:
                return _complete_join(request, form, data)
            return _send_join_code(request, form, data)
    return _join_form(request, form, store)


def _join_form(request: HttpRequest, form: JoinForm, store: Any, status: int = 200) -> HttpResponse:
    context = {"form": form, "store": store, "referral": request.GET.get("ref", "")}
    return _page(request, "portal/join.html", context, status=status)


def _put_errors(form: forms.Form, problem: DomainError) -> None:
    if not problem.errors:
        form.add_error(None, str(problem.detail))
    for error in problem.errors:
        target = JOIN_ERROR_FIELDS.get(error.field)
        form.add_error(target if target in form.fields else None, str(error.message))


def _checked(request: HttpRequest, form: JoinForm, data: dict) -> bool:
    """Whether the members app would take `data` (its errors are put on the form if not)."""
    try:
        errors = joining.join_errors(_actor(request), data)
    except DomainError as problem:  # a recruitment rule of purchases
        form.add_error(None, str(problem.detail))
        return False
    if errors:
        _put_errors(form, ValidationFailed(errors))
    return not errors


def _send_join_code(request: HttpRequest, form: JoinForm, data: dict) -> HttpResponse:
    merchant = request.merchant
    try:
        otp.request_code(merchant, data["mobile"], OneTimeCode.Purpose.JOIN, ip=client_ip(request))
    except otp.CodeRefused as refused:
        pending = _get(request, JOIN_PENDING, merchant) or {}
        if refused.code != "resend_too_soon" or pending.get("mobile") != data["mobile"]:
            form.add_error(None, refused.detail)
            return _join_form(request, form, None)
        messages.warning(request, refused.detail)
    _put(request, JOIN_PENDING, merchant, data)
    return _code_page(request, data, CodeForm(initial={"mobile": data["mobile"]}))


def _code_page(request: HttpRequest, data: dict, form: CodeForm) -> HttpResponse:
    wait = otp.resend_wait(request.merchant, data["mobile"], OneTimeCode.Purpose.JOIN)
    context = {"code_form": form, "data": data, "mobile": data["mobile"], "wait": wait}
    return _page(request, "portal/join.html", context)


def _join_code_step(request: HttpRequest, data: dict) -> HttpResponse:
    merchant = request.merchant
    if "resend" in request.POST:
        form = CodeForm(initial={"mobile": data["mobile"]})
        try:
            otp.request_code(
                merchant, data["mobile"], OneTimeCode.Purpose.JOIN, ip=client_ip(request)
            )
            messages.success(request, _("A new code was sent."))
        except otp.CodeRefused as refused:
            form.add_error(None, refused.detail)
        return _code_page(request, data, form)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            otp.verify_code(
                merchant,
                data["mobile"],
                form.cleaned_data["code"],
                OneTimeCode.Purpose.JOIN,
                ip=client_ip(request),
            )
        except (otp.CodeRefused, ValidationFailed) as refused:
            form.add_error("code", _refusal_text(refused))
        else:
            _put(request, JOIN_PENDING, merchant, None)
            _prove(request, merchant, data["mobile"])
            return _complete_join(request, _refilled(data), data)
    return _code_page(request, data, form)


def _refilled(data: dict) -> JoinForm:
    """The join form again with what was typed (to show the errors of a late refusal)."""
    lunar = (data.get("lunar_birthday") or "-").split("-")
    initial = {**data, "agree": True, "lunar_month": lunar[0], "lunar_day": lunar[-1]}
    form = JoinForm(initial)
    form.is_valid()
    return form


def _complete_join(request: HttpRequest, form: JoinForm, data: dict) -> HttpResponse:
    """Register the proven mobile (or log in the member it already is)."""
    merchant = request.merchant
    member = joining.existing_member(merchant, data["mobile"])
    if member is None:
        try:
            member = joining.join(_actor(request), data)
        except Conflict as conflict:
            member = joining.existing_member(merchant, data["mobile"])
            if member is None:
                _put_errors(form, conflict)
                return _join_form(request, form, None)
        except DomainError as problem:
            _put_errors(form, problem)
            return _join_form(request, form, None)
        else:
            messages.success(request, _("Welcome! You are now a member."))
            return _logged_in(request, member)
    messages.info(request, _("You are already a member with this mobile, so we logged you in."))
    return _logged_in(request, member)


def _logged_in(request: HttpRequest, member: Member) -> HttpResponse:
    _put(request, PROVEN, request.merchant, None)
    login_member(request, member)
    return redirect(_to(request, "portal:card"))


# --- log out and the policy -------------------------------------------------------------------


@merchant_page
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout_member(request, request.merchant)
        messages.info(request, _("You are logged out."))
        return redirect(_to(request, "portal:login"))
    return redirect(_to(request, "portal:card"))


@merchant_page
def policy(request: HttpRequest) -> HttpResponse:
    member = current_member(request, request.merchant)
    return _page(request, "portal/policy.html", {"member": member, "tab": "privacy"})
