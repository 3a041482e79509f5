"""One settings module, driven by PATRON_* environment variables (see README)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from patron.core.secrets import fallback_keys, secret_key

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PATRON_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# PATRON_SECRET_KEY, else a random key generated on first start in DATA_DIR/secret_key (0600).
# Rotation: the new key in PATRON_SECRET_KEY, the old ones in PATRON_SECRET_KEY_FALLBACKS, then
# `patron reencrypt` (docs/operations.md, "Keys").
SECRET_KEY = secret_key(DATA_DIR, os.environ)
SECRET_KEY_FALLBACKS = fallback_keys(os.environ)
DEBUG = os.environ.get("PATRON_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("PATRON_ALLOWED_HOSTS", "*").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("PATRON_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

# Served over HTTPS through a reverse proxy (`patron serve` speaks plain HTTP): PATRON_HTTPS=1,
# or PATRON_PROXY_SSL_HEADER naming the header the proxy sets to "https" (default
# X-Forwarded-Proto). Cookies are then sent over HTTPS only, browsers are told to use HTTPS for a
# year (HSTS), and a request counts as secure when the proxy says it came in over HTTPS.
PROXY_SSL_HEADER = os.environ.get("PATRON_PROXY_SSL_HEADER", "").strip()
HTTPS = os.environ.get("PATRON_HTTPS", "") == "1" or bool(PROXY_SSL_HEADER)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + (PROXY_SSL_HEADER or "X-Forwarded-Proto").upper().replace("-", "_"),
        "https",
    )
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
# Staff sessions end after 12 hours without a request (a till left logged in overnight is
# not); every request moves the end on (patron.core.sessions: without writing the session back,
# so a slow request cannot wipe what a faster one stored).
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    # Counts failed console log-ins per user name and per IP address and locks both
    # (AXES_* below; the page, the audit and HQ's unlock are in patron.tenancy.logins).
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_htmx",
    # django-ninja's own Swagger UI files (static/ninja/), so /api/v1/docs needs no CDN: many
    # stores sit behind networks where public CDNs fail.
    "ninja",
    "huey.contrib.djhuey",
    "patron.core",
    "patron.tenancy",
    "patron.events",
    "patron.members",
    "patron.program",
    "patron.ledger",
    "patron.catalogue",
    "patron.promotions",
    "patron.sales",
    "patron.wallet",
    "patron.cards",
    "patron.insight",
    "patron.campaigns",
    "patron.network",
    "patron.whatif",
    "patron.activities",
    "patron.portal",
    "patron.shifts",
    "patron.home",
    "patron.demo",
    "patron.server",
]

MIDDLEWARE = [
    "patron.core.middleware.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "patron.core.middleware.DocumentPolicyMiddleware",
    "patron.core.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "patron.core.sessions.SlidingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "patron.tenancy.middleware.CurrentStaffMiddleware",
    "patron.core.idempotency.IdempotencyMiddleware",
    # Turns a locked-out log-in into the login page with when the lock ends (last, as axes asks).
    "axes.middleware.AxesMiddleware",
]
# Requests under /api/ (API-key auth, JSON, no cookies) pass only these (patron/wsgi.py): the
# browser's session, CSRF, auth, messages, frame and htmx middleware do nothing for them but
# cost a till's sale CPU (docs/checkout-benchmarks.md). Same order as in MIDDLEWARE.
API_MIDDLEWARE = [
    "patron.core.middleware.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "patron.core.middleware.DocumentPolicyMiddleware",  # the docs page; JSON skips it
    "patron.core.middleware.ApiProblemMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "patron.core.idempotency.IdempotencyMiddleware",
]

# Scripts, styles, fonts and images from our own static files only: no inline script, on*
# handler or style attribute is left in any page, so an injected one does not run. (The API
# docs' settings are a type="application/json" block, which is data, not script.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "patron.urls"
WSGI_APPLICATION = "patron.wsgi.application"
# What the Idempotency-Key middleware (patron.core, which imports no app) guards and how it
# tells whose key a request carries: named here, where the project is wired together.
PATRON_API = "patron.api.api"
PATRON_API_KEY_LOOKUP = "patron.tenancy.selectors.api_key_from_authorization"
# `/healthz` is answered outside the middleware chain (patron/wsgi.py) from the server app's
# own URLconf: the wiring names it, as the floors forbid patron.urls to import the server app.
PATRON_HEALTH_URLCONF = "patron.server.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "patron.tenancy.context.staff_context",
            ],
        },
    },
]


def database_config(url: str | None) -> dict:
    """SQLite by default (WAL, IMMEDIATE transactions so writers queue instead of failing)."""
    if not url:
        url = f"sqlite:///{DATA_DIR / 'patron.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        config["TEST"] = {"NAME": os.environ.get("PATRON_TEST_SQLITE_NAME") or None}
    elif os.environ.get("PATRON_PG_PREPARE", "1") == "1":
        # Parameters bound on the server and statements prepared after their third use on a
        # connection: PostgreSQL then skips parsing and planning the checkout's fixed
        # statements (planning was a large share of a sale's CPU: docs/checkout-benchmarks.md).
        config["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 3}
    return config


DATABASES = {"default": database_config(os.environ.get("PATRON_DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# The axes backend first: it refuses a locked user name or address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Either is enough to lock: five failures on one user name (from anywhere), or from one address
# (on any user names: password spraying).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A refused try during a lock does not restart it, so the end the login page shows holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# How many reverse proxies in front of Patron append to X-Forwarded-For (nginx alone: 1); the
# client's address is then read from the header's right end (patron.tenancy.middleware).
# PATRON_HTTPS means a proxy terminates TLS in front of Patron: one, unless told otherwise.
PATRON_PROXY_COUNT = int(os.environ.get("PATRON_PROXY_COUNT", "1" if HTTPS else "0"))
AXES_LOCKOUT_CALLABLE = "patron.tenancy.logins.lockout_response"
AXES_CLIENT_IP_CALLABLE = "patron.tenancy.middleware.client_ip"
# Successful log-ins are not kept (the table would only grow); lockouts are in the audit log.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
# Where a role lands after logging in (URL names; the rest land on LOGIN_REDIRECT_URL).
PATRON_LANDING = {"cashier": "sales:till"}
# How the member pages send one-time SMS codes (patron.portal.sms): "channel" through the
# merchant's campaigns SMS channel; "log" writes the mobile and the code to the server log
# (demos and tests only: anyone who reads the log can log in as anyone).
PATRON_SMS_BACKEND = os.environ.get("PATRON_SMS_BACKEND", "channel").strip() or "channel"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # collected by `patron serve`; WhiteNoise warns if missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"
# The most any request may hold in memory: an API body (a sale, a program file) or a console
# form's fields. An API body over it is a 413 before it is read (ApiBodyLimitMiddleware). A
# file upload (the member import) is not counted: Django streams it to disk past
# FILE_UPLOAD_MAX_MEMORY_SIZE and the importer keeps its own limit (64 MB,
# patron/members/importing/reading.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_403": {"()": "patron.core.logs.OneLineForbidden"}},
    "formatters": {"jobs": {"format": "[%(levelname)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "jobs": {"class": "logging.StreamHandler", "formatter": "jobs"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "WARNING")},
    # axes warns on every failed log-in with the user name and address masked; Patron logs one
    # line per lockout instead, with both (patron.tenancy.services.record_lockout).
    "loggers": {
        "axes": {"level": "ERROR"},
        # A 403 (a role's refusal, a stale form's CSRF failure) is a line, not a traceback.
        "django.request": {"filters": ["one_line_403"]},
        "django.security.csrf": {"filters": ["one_line_403"]},
        # The job worker's lines, once: with a handler here huey's `run_huey` adds none of
        # its own, and without propagation the root handler does not print them again.
        "huey": {"handlers": ["jobs"], "level": "INFO", "propagate": False},
        # The log SMS backend's one line per code must reach the server log whatever the
        # root level (it propagates to the root's handler, which has no level of its own).
        "patron.portal.sms": {"level": "INFO"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# Background jobs and schedules (huey): an embedded SQLite queue next to the database, or
# Redis in production (PATRON_REDIS_URL=redis://127.0.0.1:6379/0) with `patron worker`.
REDIS_URL = os.environ.get("PATRON_REDIS_URL", "")
HUEY = {
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "name": "patron",
    "results": False,
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {},
    "consumer": {"workers": 2, "worker_type": "thread"},
}
if not REDIS_URL:
    HUEY["filename"] = str(DATA_DIR / "jobs.sqlite3")
