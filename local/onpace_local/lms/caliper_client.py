"""Send IMS Caliper 1.2 envelopes the way an LMS's Sensor would (docs/ingest.md, "Caliper").

``event_from_plain`` turns one plain-format activity (``event_id``, ``occurred_at``, ``student``,
``class``, ``kind``, ``percent_complete``) into the Caliper event OnPace maps back to the same
kind, instant, student and class: the student is a ``Person`` and the class a ``CourseSection``,
each carrying its roster sourcedId as a ``LisSourcedId`` SystemIdentifier. ``send_envelope``
POSTs events in one envelope with the district's bearer token.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from onpace_core.ingest.formats.caliper import CALIPER_V1P2, PATH

from onpace_local.webhook_client import WebhookResponse

SENSOR = "https://onpace.local/sensors/lms"


def caliper_time(at: datetime) -> str:
    """Caliper's DateTime: UTC, millisecond precision, ``Z`` (``2026-09-01T15:00:00.000Z``)."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _person(base_iri: str, student: str) -> dict[str, Any]:
    return {
        "id": f"{base_iri}/users/{quote(student, safe='')}",
        "type": "Person",
        "otherIdentifiers": [
            {"type": "SystemIdentifier", "identifier": student, "identifierType": "LisSourcedId"}
        ],
    }


def _section(base_iri: str, class_id: str) -> dict[str, Any]:
    return {
        "id": f"{base_iri}/sections/{quote(class_id, safe='')}",
        "type": "CourseSection",
        "otherIdentifiers": [
            {"type": "SystemIdentifier", "identifier": class_id, "identifierType": "LisSourcedId"}
        ],
    }


def _shape(kind: str, base_iri: str, thing: str, percent: float | None) -> dict[str, Any]:
    """type, action, object (and generated) of the Caliper event of one activity kind."""
    if kind == "login":
        return {
            "type": "SessionEvent",
            "action": "LoggedIn",
            "object": {"id": base_iri, "type": "SoftwareApplication"},
        }
    if kind == "view":
        return {"type": "ViewEvent", "action": "Viewed", "object": {"id": thing, "type": "DigitalResource"}}
    if kind == "submission":
        return {
            "type": "AssignableEvent",
            "action": "Submitted",
            "object": {"id": thing, "type": "AssignableDigitalResource"},
        }
    if kind in ("discussion_post", "discussion_reply"):
        message: dict[str, Any] = {"id": thing, "type": "Message"}
        if kind == "discussion_reply":
            message["replyTo"] = {"id": f"{thing}/parent", "type": "Message"}
        return {"type": "MessageEvent", "action": "Posted", "object": message}
    if kind == "progress":
        if percent is None:
            raise ValueError("a progress event needs percent_complete")
        return {
            "type": "ToolUseEvent",
            "action": "Used",
            "object": {"id": base_iri, "type": "SoftwareApplication"},
            "generated": {
                "id": f"{thing}/measures",
                "type": "AggregateMeasureCollection",
                "items": [
                    {
                        "id": f"{thing}/measures/units",
                        "type": "AggregateMeasure",
                        "metric": "UnitsCompleted",
                        "metricValue": percent,
                        "maxMetricValue": 100.0,
                    }
                ],
            },
        }
    raise ValueError(f"kind {kind!r} has no Caliper event OnPace maps back to it")


def event_from_plain(plain_event: dict[str, Any], base_iri: str) -> dict[str, Any]:
    """The Caliper 1.2 event of a plain activity event (kinds login, view, submission,
    discussion_post, discussion_reply, progress; ``percent_complete`` only on progress).

    The Caliper id is a UUID derived from ``base_iri`` and the plain ``event_id``, so sending the
    same activity again is a retry OnPace counts once.
    """
    base = base_iri.rstrip("/")
    kind = str(plain_event["kind"])
    percent = plain_event.get("percent_complete")
    if percent is not None and kind != "progress":
        raise ValueError(f"Caliper carries percent_complete only on progress, not on {kind!r}")
    at = datetime.fromisoformat(str(plain_event["occurred_at"]))
    if at.tzinfo is None:
        raise ValueError("occurred_at needs an offset")
    event_id = str(plain_event["event_id"])
    thing = f"{base}/activities/{quote(event_id, safe='')}"
    event: dict[str, Any] = {
        "@context": CALIPER_V1P2,
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base}/events/{event_id}')}",
        "actor": _person(base, str(plain_event["student"])),
        **_shape(kind, base, thing, None if percent is None else float(percent)),
        "eventTime": caliper_time(at),
        "edApp": {"id": base, "type": "SoftwareApplication"},
    }
    if plain_event.get("class"):
        event["group"] = _section(base, str(plain_event["class"]))
    return event


def envelope(
    events: list[dict[str, Any]], sensor: str = SENSOR, at: datetime | None = None
) -> dict[str, Any]:
    """A Caliper 1.2 envelope of ``events``."""
    return {
        "sensor": sensor,
        "sendTime": caliper_time(at or datetime.now(UTC)),
        "dataVersion": CALIPER_V1P2,
        "data": events,
    }


def send_envelope(
    url: str,
    token: str,
    events: list[dict[str, Any]],
    *,
    body: str | None = None,
    content_type: str = "application/json",
) -> WebhookResponse:
    """POST ``events`` in one envelope to ``{url}/caliper/events`` (``url``: the API's base URL)
    with ``Authorization: Bearer {token}``. ``body`` replaces the envelope (to send a broken one)."""
    payload = body if body is not None else json.dumps(envelope(events), separators=(",", ":"))
    headers = {"content-type": content_type}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{url.rstrip('/')}{PATH}", data=payload.encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return WebhookResponse(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        return WebhookResponse(error.code, json.loads(error.read() or b"{}"))
