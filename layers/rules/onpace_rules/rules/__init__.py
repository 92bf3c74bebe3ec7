"""Rule families. Each family is a series of rule ids that share a clock and an episode."""
