"""Tables of the checkin part. Owner: the checkin part (list them in __all__)."""

__all__: list[str] = []
