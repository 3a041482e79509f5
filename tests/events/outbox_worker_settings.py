"""Settings for the real `patron worker` of the kill -9 test (test_outbox_kill.py): Patron's
own, plus a test consumer of the outbox (`tests.events.outbox_recorder`). Test-only: the
worker loads it through DJANGO_SETTINGS_MODULE, nothing in `patron` names it."""

from patron.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.events.outbox_recorder.RecorderConfig"]  # noqa: F405
