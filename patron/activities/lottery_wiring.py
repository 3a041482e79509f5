"""What the lottery part registers from above at start-up (program sections, hooks, references)."""


def register() -> None:
    """Called once from ActivitiesConfig.ready(). Owner: the lottery part."""
