"""What the member-only events part registers at start-up: its scheduled reminder job."""


def register() -> None:
    """Called once from ActivitiesConfig.ready()."""
    from patron.activities import event_tasks  # noqa: F401  (declares the periodic task)
