"""Registrations the commission part makes with the floors below (program sections, hooks)."""


def register() -> None:
    """Nothing yet."""
