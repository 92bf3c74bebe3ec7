"""Stand-ins for the LMSs that send OnPace activity, in their own formats (local stack, tests)."""
