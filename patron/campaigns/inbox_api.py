"""`GET /members/{id}/messages`, the member's inbox (filled in by the channels part)."""

from ninja import Router

router = Router(tags=["messages"])
