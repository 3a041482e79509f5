"""Security of joining and logging in (issue 18 §7): CSRF on the forms, production cookies."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from patron.portal.models import OneTimeCode
from tests.portal.auth_support import sms_log_fixture  # noqa: F401 (the sms_log fixture)

pytestmark = pytest.mark.django_db

READ_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({k: getattr(s, k) for k in (
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE")}))
"""


def test_forms_refuse_a_post_without_the_csrf_token(merchant, sms_log):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/m/login", {"mobile": "13512345678"}).status_code == 403
    assert strict.post("/m/join", {"mobile": "13512345678"}).status_code == 403
    assert not OneTimeCode.objects.exists()
    page = strict.get("/m/login")
    assert b"csrfmiddlewaretoken" in page.content


def test_production_cookies_are_secure_httponly_and_lax(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "patron.settings",
        "PATRON_HTTPS": "1",
        "PATRON_DATA_DIR": str(tmp_path),
        "PATRON_SECRET_KEY": "x" * 50,
    }
    out = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS], env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
    }
