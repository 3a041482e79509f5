"""REST endpoints of the segment part of insight (API.md §8)."""

from ninja import Router

router = Router(tags=["insight"])
