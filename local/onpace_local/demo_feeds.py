"""How the demo's activity reaches the stack: each school's LMS sends in its own format.

A district's schools seldom share one LMS. The demo plays that: the events of a class go
through the format of the class's school (``FEEDS``: the dual-credit school's university
Moodle reports to the xAPI LRS, the cooperative's LMS is a Caliper Sensor), everything else —
the other schools, every non-activity input (a final grade, …: only the plain format carries
inputs) and any event a format cannot say — as signed plain JSON. The split is by class, so the
events that fold into one enrollment all arrive one way and the facts folded are the same
whatever the format.

The xAPI share names students and courses as Moodle does, not by roster ``sourcedId``: the
student as an account ``{homePage: <site>, name: <username>}`` (``send_username``; the email
as ``mbox`` when the roster gives no username), the course as ``<site>/course/view.php?id=N``
with its short name (the class's ``classCode``) and full name (its title) and no ID number —
so every statement is resolved through the identity map the roster load saved. The Caliper
share names them by ``LisSourcedId`` (what a OneRoster-provisioned Sensor sends).

Requests are batched per day and format (up to 500 events each), as an LMS batches its queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from onpace_core.ingest.formats import xapi
from onpace_core.roster.enrollments import EnrollmentRecord
from onpace_core.roster.identities import IdentityRow
from onpace_rules.facts import ACTIVITY_KINDS

from onpace_local.district import LoadedDistrict
from onpace_local.lms import caliper_client, xapi_client
from onpace_local.webhook_client import WebhookResponse, post_webhook

PLAIN, XAPI, CALIPER = "plain", "xapi", "caliper"
FORMATS = (PLAIN, XAPI, CALIPER)
# School (OneRoster org sourcedId) → the format its LMS sends; a school not listed sends plain.
FEEDS: Mapping[str, str] = {"org-rb-dualcredit": XAPI, "org-rb-coop": CALIPER}
MOODLE_SITE = "https://moodle.riverbend-dualcredit.example"
CALIPER_APP = "https://lms.riverbend-coop.example"
BATCH = 500  # the most events one request of any of the three formats may carry
# The kinds event_from_plain writes as Caliper events OnPace reads back as the same kind.
_CALIPER_KINDS = frozenset({"login", "view", "submission", "discussion_post", "discussion_reply", "progress"})


@dataclass(frozen=True)
class LmsDirectory:
    """What the LMSs know of the district, from the same roster: each class's school, title and
    code, each student's username and email. Keyed by roster sourcedId."""

    school_of_class: Mapping[str, str]
    title_of_class: Mapping[str, str]
    code_of_class: Mapping[str, str]
    username: Mapping[str, str]
    email: Mapping[str, str]

    @classmethod
    def from_roster(
        cls, records: Iterable[EnrollmentRecord], identities: Iterable[IdentityRow]
    ) -> LmsDirectory:
        school: dict[str, str] = {}
        title: dict[str, str] = {}
        for record in records:
            if record.school_id:
                school[record.class_id] = record.school_id
            title[record.class_id] = record.class_title
        names: dict[tuple[str, str], dict[str, str]] = {}
        for row in identities:
            names.setdefault((row.kind, row.ref.namespace), {}).setdefault(row.sourced_id, row.ref.value)
        return cls(
            school,
            title,
            names.get(("class", "classCode"), {}),
            names.get(("user", "username"), {}),
            names.get(("user", "email"), {}),
        )


def format_of(event: Mapping[str, Any], directory: LmsDirectory, feeds: Mapping[str, str] = FEEDS) -> str:
    """The format ``event`` (a plain event, as in demo/events.jsonl) is sent in."""
    class_id = event.get("class")
    kind = event.get("kind")
    if not class_id or kind not in ACTIVITY_KINDS:
        return PLAIN
    chosen = feeds.get(directory.school_of_class.get(str(class_id), ""), PLAIN)
    if chosen == CALIPER:
        percent = event.get("percent_complete")
        if kind not in _CALIPER_KINDS or (percent is None) == (kind == "progress"):
            return PLAIN  # Caliper says percent complete only on progress, and progress only with it
    return chosen


def moodle_statement(event: Mapping[str, Any], directory: LmsDirectory) -> dict[str, Any]:
    """The statement Moodle's logstore_xapi would send for ``event``, naming student and course
    as Moodle knows them (module docstring)."""
    student, class_id = str(event["student"]), str(event["class"])
    if student in directory.username:
        actor: dict[str, Any] = {
            "objectType": "Agent",
            "account": {"homePage": MOODLE_SITE, "name": directory.username[student]},
        }
    elif student in directory.email:
        actor = {"objectType": "Agent", "mbox": f"mailto:{directory.email[student]}"}
    else:  # a user the roster names no other way: Moodle's username is the sourcedId
        actor = {"objectType": "Agent", "account": {"homePage": MOODLE_SITE, "name": student}}
    definition: dict[str, Any] = {"type": "http://id.tincanapi.com/activitytype/lms/course"}
    if class_id in directory.title_of_class:
        definition["name"] = {"en": directory.title_of_class[class_id]}
    if class_id in directory.code_of_class:
        definition["extensions"] = {xapi.EXT_SHORT_ID: directory.code_of_class[class_id]}
    # Moodle's course ids count from 2 (1 is the site); stable: the class's place in sorted order.
    known = sorted(directory.title_of_class)
    number = known.index(class_id) + 2 if class_id in known else 0
    course = {
        "objectType": "Activity",
        "id": f"{MOODLE_SITE}/course/view.php?id={number}",
        "definition": definition,
    }
    return xapi_client.statement_from_plain(event, MOODLE_SITE, actor=actor, course=course)


@dataclass
class FeedTally:
    """Events and requests sent per format."""

    events: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return ", ".join(f"{f} {self.events[f]} ({self.requests[f]} requests)" for f in FORMATS)


class RefusedError(RuntimeError):
    """The stack refused a request the demo made in good faith."""


def _chunks(items: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def send_day(
    gateway_url: str,
    district: LoadedDistrict,
    directory: LmsDirectory,
    events: Sequence[dict[str, Any]],
    *,
    msg_id: str,
    tally: FeedTally,
    feeds: Mapping[str, str] = FEEDS,
) -> Counter[str]:
    """Send one day's plain events, each in its format (``format_of``), batched per format.
    Returns the events sent per format; ``RefusedError`` if a request is refused."""
    split: dict[str, list[dict[str, Any]]] = {f: [] for f in FORMATS}
    for event in events:
        split[format_of(event, directory, feeds)].append(event)
    for index, batch in enumerate(_chunks(split[PLAIN])):
        _check(
            PLAIN,
            post_webhook(
                gateway_url,
                district_id=district.district_id,
                secret=district.webhook_secret,
                events=list(batch),
                msg_id=msg_id if index == 0 else f"{msg_id}_{index}",
            ),
            202,
        )
        tally.requests[PLAIN] += 1
    for batch in _chunks(split[XAPI]):
        statements = [moodle_statement(e, directory) for e in batch]
        answer = xapi_client.post_statements(gateway_url, district.xapi, statements)
        _check(XAPI, WebhookResponse(answer.status, {"body": answer.body}), 200)
        tally.requests[XAPI] += 1
    for batch in _chunks(split[CALIPER]):
        caliper_events = [caliper_client.event_from_plain(e, CALIPER_APP) for e in batch]
        envelope = caliper_client.send_envelope(gateway_url, district.caliper_token, caliper_events)
        _check(CALIPER, envelope, 200)
        tally.requests[CALIPER] += 1
    sent = Counter({f: len(split[f]) for f in FORMATS})
    tally.events.update(sent)
    return sent


def _check(fmt: str, response: WebhookResponse, expected: int) -> None:
    if response.status != expected:
        raise RefusedError(f"{fmt} request refused with {response.status}: {response.body}")
