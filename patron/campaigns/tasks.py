"""The campaigns' jobs live in each part's module; huey discovers only `tasks` modules."""

from patron.campaigns import journey_tasks, message_tasks, send_tasks  # noqa: F401
