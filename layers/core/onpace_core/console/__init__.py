"""What the district console reads and does, below its HTTP routes (``functions/console/``).

Every function here takes the caller's district as its first argument and keeps every read
inside it: in a key condition, never in a filter.
"""
