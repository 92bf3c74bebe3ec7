"""Stand-ins for the LMS side of the integrations: credentials a district gives its LMS, and clients
that send what an LMS would (xAPI statements)."""
