"""The WSGI application `patron serve` serves (granian, or gunicorn).

Two Django handlers share one URLconf: requests under /api/ go through
`settings.API_MIDDLEWARE`, everything else through the full `settings.MIDDLEWARE`.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
API_PREFIX = "/api/"


class ApiHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is `settings.API_MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; this runs once, at start-up,
        # before any request thread exists.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


console = get_wsgi_application()  # sets Django up; the console, cashier, member pages
api = ApiHandler()


def application(environ, start_response):
    handler = api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else console
    return handler(environ, start_response)
