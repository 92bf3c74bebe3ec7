"""Facts: per-enrollment summaries of activity that the rules engine reads."""
