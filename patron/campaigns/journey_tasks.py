"""Jobs of the journey_tasks part (filled in by that part)."""
