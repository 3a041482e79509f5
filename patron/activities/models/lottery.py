"""Tables of the lottery part. Owner: the lottery part (list them in __all__)."""

__all__: list[str] = []
