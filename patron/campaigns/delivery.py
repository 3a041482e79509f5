"""Reaching members (filled in by the engine part).

- `contact(campaign, member_ids, *, occurrence, context=None, run=None, now=None) -> int`:
  the one pipeline every campaign kind goes through. For each member (idempotent per
  campaign, member and occurrence: a Target row): holdout by a reproducible hash of member and
  campaign; consent / opt-out per channel; frequency caps across all campaigns (locked per
  member, so a burst never exceeds the cap); quiet hours in the merchant's zone (HELD, sent
  after); then the actions (message -> Message rows QUEUED, coupon from a template within
  stock and budget, points, tier, a follow-up task). Writes rows only (safe inside the
  outbox dispatcher's transaction); the sending job sends the queued messages after commit.
  `context` maps member id -> variables for the message (points, expires_at, ...).
- `start_run(campaign, occurrence, now) -> CampaignRun`: queue a run over the whole audience
  in chunks (background jobs, progress in the run's processed / total).
"""
