"""The names of the LMS sources and the routes they post to.

What the ingest function's route modules need at import (route paths, the source named in an
audit entry), apart from the formats' parsers: those hold pydantic models and load on a route's
first request (docs/scale.md, "Cold start").
"""

from __future__ import annotations

PLAIN = "plain"
XAPI = "xapi"
CALIPER = "caliper"
CANVAS = "canvas"

CALIPER_PATH = "/caliper/events"  # the route a Sensor posts to (template.yaml, IngestFunction)
