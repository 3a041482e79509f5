"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class OneLineForbidden(logging.Filter):
    """A 403 is someone opening a page their role may not see, or a stale form (CSRF): one
    warning line says so. Django logs PermissionDenied with its traceback, which buried real
    errors under a screenful per refusal; this drops the traceback and keeps the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
