"""Jobs of the send_tasks part (filled in by that part)."""
