"""What the feedback part of insight registers with the apps below and the refresh."""


def register() -> None:
    """Called once from InsightConfig.ready()."""
    from patron.insight import feedback, feedback_views
    from patron.members import hooks, profile

    hooks.add_activity_handler(feedback.on_activity)
    hooks.add_after_registration(feedback.on_registration)
    profile.add_panel(profile.Panel("main", feedback_views.member_events_panel, order=30))
