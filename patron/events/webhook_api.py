"""`/webhooks` (API.md §9; filled in by the webhooks part)."""

from ninja import Router

router = Router(tags=["webhooks"])
