"""The settlement API (API.md §12)."""

from ninja import Router

router = Router(tags=["network"])
