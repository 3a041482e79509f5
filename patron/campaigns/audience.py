"""Who a campaign is for (filled in by the engine part).

- `members(merchant, audience) -> QuerySet[Member]`: `{segment: id}` or `{filter: {...}}`
  (insight's filter language), active members only.
- `count(merchant, audience) -> int`: the live count the editor shows.
"""
