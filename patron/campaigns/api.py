"""`/campaigns` (API.md §9; filled in by the engine part)."""

from ninja import Router

router = Router(tags=["campaigns"])
