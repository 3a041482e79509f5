"""The WSGI application `patron serve` serves (granian, or gunicorn).

Three Django handlers: requests under /api/ go through `settings.API_MIDDLEWARE`, `/healthz`
through no middleware at all (its own URLconf, `settings.PATRON_HEALTH_URLCONF`), everything
else through the full `settings.MIDDLEWARE` and `settings.ROOT_URLCONF`.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
API_PREFIX = "/api/"
HEALTH_PATH = "/healthz"


class ApiHandler(WSGIHandler):
    """A WSGIHandler whose middleware chain is `settings.API_MIDDLEWARE`."""

    def chain(self) -> list[str]:
        return settings.API_MIDDLEWARE

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; this runs once, at start-up,
        # before any request thread exists.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.chain()
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class HealthHandler(ApiHandler):
    """`/healthz` for load balancers: no middleware (no session, CSRF or allowed-host check: a
    probe by IP address is answered, and costs nothing it doesn't need) and the one-route
    URLconf of the server app, named in settings because this module imports no app."""

    def chain(self) -> list[str]:
        return []

    def resolve_request(self, request):
        request.urlconf = settings.PATRON_HEALTH_URLCONF
        return super().resolve_request(request)


console = get_wsgi_application()  # sets Django up; the console, cashier, member pages
api = ApiHandler()
health = HealthHandler()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(API_PREFIX):
        handler = api
    elif path == HEALTH_PATH:
        handler = health
    else:
        handler = console
    return handler(environ, start_response)
