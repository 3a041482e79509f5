"""Jobs of the message_tasks part (filled in by that part)."""
