"""Production settings: PATRON_HTTPS turns on Secure cookies, HSTS and the proxy's scheme; staff
sessions end after 12 hours idle; pages carry a Content-Security-Policy with no inline script
left to need 'unsafe-inline'; a 403 logs one line, not a traceback."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.cli_support import patron_env

pytestmark = pytest.mark.django_db
PATRON_DIR = Path(settings.BASE_DIR)

SHOW_SETTINGS = """
import json
from django.conf import settings as s
print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE,
                  s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.PATRON_PROXY_COUNT]))
"""


def settings_under(tmp_path: Path, **env: str) -> list:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        env={**patron_env(tmp_path), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_patron_https_turns_on_secure_cookies_hsts_and_the_proxys_scheme(tmp_path):
    assert settings_under(tmp_path) == [False, False, False, 0, None, 0]
    assert settings_under(tmp_path, PATRON_HTTPS="1") == [
        True,
        True,
        True,
        365 * 24 * 60 * 60,
        ["HTTP_X_FORWARDED_PROTO", "https"],
        1,  # a proxy terminates TLS in front of patron serve
    ]
    header = settings_under(tmp_path, PATRON_PROXY_SSL_HEADER="X-Forwarded-Ssl")
    assert header[:2] == [True, True] and header[4] == ["HTTP_X_FORWARDED_SSL", "https"]
    assert settings_under(tmp_path, PATRON_HTTPS="1", PATRON_PROXY_COUNT="2")[5] == 2


@pytest.fixture
def https(settings):
    """What PATRON_HTTPS=1 sets (checked above in a real process)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60


def test_behind_an_https_proxy_pages_send_hsts_and_only_secure_cookies(https, hq):
    client = Client()
    page = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert page.cookies["csrftoken"]["secure"]

    response = client.post(
        "/login/",
        {"username": "hq", "password": "password123"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 302 and response.cookies["sessionid"]["secure"]
    assert "Strict-Transport-Security" not in Client().get("/login/")  # not over plain http


def test_staff_sessions_end_after_12_hours_idle(hq):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    client = Client()
    client.post("/login/", {"username": "hq", "password": "password123"})
    session = Session.objects.get()

    Session.objects.update(expire_date=timezone.now() + dt.timedelta(hours=1))
    assert client.get("/members/").status_code == 200
    refreshed = Session.objects.get(pk=session.pk).expire_date
    assert refreshed > timezone.now() + dt.timedelta(hours=11, minutes=59)  # use moves it on

    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))  # 12 h idle
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


class InlineCode(HTMLParser):
    """Inline script, handlers and styles in a page: what the policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        # A type="application/json" block (the API docs' settings) is data, never executed.
        if (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type") != "application/json"
        ):
            self.found.append(f"<script> without src: {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        for name, _value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def pages(hq_client, make_member, hq) -> dict[str, Client]:
    member = make_member(name="张三")
    return {
        path: hq_client
        for path in (
            "/",
            "/members/",
            f"/members/{member.pk}/",
            f"/ledger/members/{member.pk}/",
            "/ledger/topup/",
            "/cashier/",
            "/cashier/sales/",
            "/promotions/",
            "/members/import/",
            "/staff/",
            "/audit/",
            "/api/v1/docs",
        )
    } | {"/login/": Client()}


def test_console_till_member_and_docs_pages_carry_a_policy_without_unsafe_inline(pages):
    for path, client in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        policy = policy_of(response)
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"] and policy["object-src"] == ["'none'"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], path


def test_no_page_holds_inline_script_handlers_or_styles(pages):
    for path, client in pages.items():
        html = client.get(path).content.decode()
        assert inline_code(html) == [], path
    assert '<meta name="htmx-config"' in pages["/"].get("/").content.decode()


def test_no_template_holds_inline_script_handlers_or_styles():
    """Pages the test above does not render (receipts, top-up results, error pages) too."""
    offending = []
    for template in PATRON_DIR.rglob("templates/**/*.html"):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)",
            r"<style\b",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
        ):
            offending += [f"{template}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offending == []


def test_api_json_answers_skip_the_policy(api):
    assert "Content-Security-Policy" not in api.get("/api/v1/members")


def forbidden_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("django.") and "Forbidden" in r.message]


def test_a_permission_denied_logs_one_line_without_a_traceback(cashier_client, caplog):
    caplog.set_level(logging.WARNING)
    assert cashier_client.get("/staff/").status_code == 403

    (record,) = forbidden_lines(caplog)
    assert record.getMessage() == "Forbidden (Permission denied): /staff/"
    assert record.exc_info is None and "Traceback" not in caplog.text


def test_a_csrf_failure_logs_one_line_without_a_traceback(hq, caplog):
    caplog.set_level(logging.WARNING)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "hq", "password": "password123"})
    assert response.status_code == 403

    (record,) = forbidden_lines(caplog)
    assert record.getMessage().startswith("Forbidden (CSRF cookie not set.)")
    assert record.exc_info is None and "Traceback" not in caplog.text
