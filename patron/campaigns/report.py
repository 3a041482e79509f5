"""What a campaign did (filled in by the engine part).

- `report(campaign) -> dict`: API.md §9 `GET /campaigns/{id}/report` shape.
"""
