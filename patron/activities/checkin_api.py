"""REST endpoints of the checkin part (API.md §11). Owner: the checkin part."""

from ninja import Router

router = Router(tags=["activities"])
