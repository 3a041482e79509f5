"""Sessions that slide their end on every request without writing back what they read.

Django's SESSION_SAVE_EVERY_REQUEST moves a session's end on by saving the whole session on
every response. A slow request then writes back the session as it read it, wiping what a faster
request stored meanwhile: a late preview request erased the "saved" message of the form posted
after it, and a request racing a log-in could save a session whose row the log-in had just
replaced. Here a changed session is saved as Django saves it; an unchanged one only has its end
moved (one UPDATE of the expiry column, the data untouched) and its cookie sent again.
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date


class SlidingSessionMiddleware(SessionMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or session.modified or not self._is_stored(request, session):
            return super().process_response(request, response)
        if response.status_code < 500:
            self._slide(session, response)
        return super().process_response(request, response)

    @staticmethod
    def _is_stored(request: HttpRequest, session) -> bool:
        """A session that came with the request's cookie and has data (else Django decides)."""
        return (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and session.session_key is not None
            and not session.is_empty()
        )

    @staticmethod
    def _slide(session, response: HttpResponse) -> None:
        age = session.get_expiry_age()
        Session.objects.filter(session_key=session.session_key).update(
            expire_date=timezone.now() + dt.timedelta(seconds=age)
        )
        if session.get_expire_at_browser_close():
            max_age = expires = None
        else:
            max_age, expires = age, http_date(time.time() + age)
        response.set_cookie(
            settings.SESSION_COOKIE_NAME,
            session.session_key,
            max_age=max_age,
            expires=expires,
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            secure=settings.SESSION_COOKIE_SECURE or None,
            httponly=settings.SESSION_COOKIE_HTTPONLY or None,
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
