"""Ingest: authenticate, validate and store LMS activity, then fold it into enrollment facts."""
