"""Tables of the mall part. Owner: the mall part (list them in __all__)."""

__all__: list[str] = []
