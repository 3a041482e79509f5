"""Tables of the events part. Owner: the events part (list them in __all__)."""

__all__: list[str] = []
