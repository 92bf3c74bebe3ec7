"""Rosters: OneRoster 1.1 CSV in, enrollments with their contacts out."""
