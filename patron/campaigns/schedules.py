"""When campaigns run (filled in by the journeys part).

- `check_cron(expr) -> str | None`: a translated error for a cron that never fires or does
  not parse (croniter), else None.
- `next_runs(campaign, start, end) -> list[datetime]`: when a scheduled or recurring campaign
  sends between two moments (the console's calendar); triggered journeys: [].
"""
