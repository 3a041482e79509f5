"""settlement tables (filled in by its part)."""

__all__: list[str] = []
