"""REST endpoints of the lottery part (API.md §11). Owner: the lottery part."""

from ninja import Router

router = Router(tags=["activities"])
