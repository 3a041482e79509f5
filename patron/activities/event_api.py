"""REST endpoints of the event part (API.md §11). Owner: the event part."""

from ninja import Router

router = Router(tags=["activities"])
