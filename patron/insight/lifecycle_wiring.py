"""What the lifecycle part of insight registers with the apps below and the refresh."""


def register() -> None:
    """Called once from InsightConfig.ready()."""
