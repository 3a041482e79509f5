"""One settings module, driven by PATRON_* environment variables (see README)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PATRON_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("PATRON_SECRET_KEY", "patron-dev-insecure-change-me-in-production")
DEBUG = os.environ.get("PATRON_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("PATRON_ALLOWED_HOSTS", "*").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("PATRON_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-ninja's own Swagger UI files (static/ninja/), so /api/v1/docs needs no CDN: many
    # stores sit behind networks where public CDNs fail.
    "ninja",
    "huey.contrib.djhuey",
    "patron.core",
    "patron.tenancy",
    "patron.members",
    "patron.program",
    "patron.ledger",
    "patron.promotions",
    "patron.sales",
    "patron.wallet",
    "patron.home",
    "patron.demo",
    "patron.server",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "patron.core.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "patron.tenancy.middleware.CurrentStaffMiddleware",
    "patron.core.idempotency.IdempotencyMiddleware",
]
# Requests under /api/ (API-key auth, JSON, no cookies) pass only these (patron/wsgi.py): the
# browser's session, CSRF, auth, messages, frame and htmx middleware do nothing for them but
# cost a till's sale CPU (docs/checkout-benchmarks.md). Same order as in MIDDLEWARE.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "patron.core.middleware.ApiProblemMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "patron.core.idempotency.IdempotencyMiddleware",
]

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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
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
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "WARNING")},
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
