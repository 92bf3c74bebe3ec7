"""OnPace platform code shared by the functions: storage, ingest, facts, notices, delivery, audit.

The pure policy engine lives in ``onpace_rules`` (layers/rules); this package is where it meets AWS.
"""
