"""Writing campaigns (filled in by the engine part).

- `validate_spec(merchant, data) -> dict`: the API.md §9 body checked (audience, trigger,
  schedule, actions, caps, quiet hours, holdout); ValidationFailed with field errors.
- `create_campaign(actor, data) -> Campaign` (status draft; merchant defaults for caps and
  quiet hours copied in), `update_campaign(actor, campaign, data)` (draft or paused),
  `launch(actor, campaign, now=None)`, `pause(actor, campaign)`, `resume(actor, campaign)`,
  `cancel(actor, campaign)`. Every one audited.
"""
