"""Sessions slide their end without writing back what a request read (patron.core.sessions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from patron.core.sessions import SlidingSessionMiddleware

pytestmark = pytest.mark.django_db


def stored_session(**data) -> SessionStore:
    session = SessionStore()
    session.update(data)
    session.save()
    return session


def request_with(session_key: str):
    request = RequestFactory().get("/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = session_key
    return request


def test_a_slow_request_does_not_wipe_what_a_faster_one_stored():
    session = stored_session(member=1)
    middleware = SlidingSessionMiddleware(lambda request: HttpResponse())
    slow = request_with(session.session_key)
    middleware.process_request(slow)
    assert slow.session["member"] == 1  # read before the other request writes

    faster = SessionStore(session.session_key)
    faster["_messages"] = "saved"
    faster.save()
    middleware.process_response(slow, HttpResponse())

    assert SessionStore(session.session_key).load() == {"member": 1, "_messages": "saved"}


def test_an_unchanged_session_still_slides_its_end_and_cookie():
    session = stored_session(member=1)
    Session.objects.update(expire_date=timezone.now() + dt.timedelta(minutes=5))
    middleware = SlidingSessionMiddleware(lambda request: HttpResponse())
    request = request_with(session.session_key)
    middleware.process_request(request)
    assert request.session["member"] == 1
    response = middleware.process_response(request, HttpResponse())

    ends = Session.objects.get().expire_date
    assert ends > timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == session.session_key


def test_a_changed_session_is_saved_as_django_saves_it():
    session = stored_session(member=1)
    middleware = SlidingSessionMiddleware(lambda request: HttpResponse())
    request = request_with(session.session_key)
    middleware.process_request(request)
    request.session["member"] = 2
    middleware.process_response(request, HttpResponse())
    assert SessionStore(session.session_key).load() == {"member": 2}
