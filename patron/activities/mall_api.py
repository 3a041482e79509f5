"""REST endpoints of the mall part (API.md §11). Owner: the mall part."""

from ninja import Router

router = Router(tags=["activities"])
