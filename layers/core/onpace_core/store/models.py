"""Every DynamoDB table of OnPace as a pynamodb model: the one place that knows item shapes.

Keys and indexes here must match ``template.yaml``; ``tests/integration/test_template.py``
creates the tables from the template and checks both agree.

Time values: instants are UTC ISO 8601 strings of fixed width (``2026-03-02T15:04:05.000000Z``)
so that string comparison in condition expressions is time order; calendar dates are
``YYYY-MM-DD`` in the program's time zone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from onpace_core.settings import Settings
from onpace_core.store.packed import ContactsAttribute, InstantAttribute

# ---------------------------------------------------------------------------------------------
# Raw webhook events (ingest writes, nobody else). Kept until ``expires_at`` (TTL).


class UnmatchedIndex(GlobalSecondaryIndex["RawEventModel"]):
    """Sparse index of events whose student/class is not (yet) on the roster."""

    class Meta:
        index_name = "unmatched"
        projection = AllProjection()

    unmatched_district = UnicodeAttribute(hash_key=True)
    received_at = UnicodeAttribute(range_key=True)


class RawEventModel(Model):
    class Meta:
        table_name = "onpace-events"

    pk = UnicodeAttribute(hash_key=True)  # "{district}#{event_id}"
    district_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    source = UnicodeAttribute()
    received_at = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    student_id = UnicodeAttribute()
    class_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    # The event as received: in the raw archive (S3, ``ingest.archive``) since the items are slim;
    # items written before keep it here.
    payload = UnicodeAttribute(null=True)
    # folded | unmatched | ignored | voided (``received``: written by ingest before issue 10)
    status = UnicodeAttribute()
    unmatched_district = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    # The event as parsed (``ingest.raw_store.event_to_json``): what a re-apply resolves again;
    # kept on ``unmatched`` items only (and on items written before the slimming).
    event = UnicodeAttribute(null=True)
    digest = UnicodeAttribute(null=True)  # ``LmsEvent.digest``: same id, other content is a conflict
    reason = UnicodeAttribute(null=True)  # why it is unmatched or ignored
    # The enrollment keys it was folded into: what a void retracts it from.
    enrollments = ListAttribute[str](null=True)

    unmatched_index: ClassVar[UnmatchedIndex] = UnmatchedIndex()


class IdentityModel(Model):
    """One row of a district's identity map, kept in the raw events table.

    In that table because ingest reads both per request: the duplicate check and the identity
    lookup share one BatchGetItem (one per 100 keys) instead of one each. ``pk`` is
    ``ingest.identity.identity_key`` (``{district}#identity#{kind}#{namespace}#{value}``); no TTL.
    """

    class Meta:
        table_name = "onpace-events"

    pk = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # user | class
    namespace = UnicodeAttribute()
    value = UnicodeAttribute()
    sourced_ids = UnicodeSetAttribute()  # several: a courseCode shared by sections, a shared title
    origin = UnicodeAttribute()  # roster | admin


class OpenRefusalsIndex(GlobalSecondaryIndex["RefusalWindowModel"]):
    """Sparse index of refusal windows whose audit entry is not written yet (``ingest/refusals.py``)."""

    class Meta:
        index_name = "open_refusals"
        projection = AllProjection()

    refusals_open = UnicodeAttribute(hash_key=True)  # always ``OPEN_REFUSALS`` while open
    window_end = UnicodeAttribute(range_key=True)


# The one partition of the open refusal windows: few items (one per district, source and reason
# with refusals in the last minutes), read by the sweep with one Query.
OPEN_REFUSALS = "open"


class RefusalWindowModel(Model):
    """Refused webhooks of one district, source, status and reason in one minute, counted.

    Kept in the raw events table beside the events the senders meant to deliver. One UpdateItem
    per refused request (``ADD refused 1``); the sweep appends one ``ingest.rejected`` audit entry
    per closed window, carrying the count, and takes the window out of the open index in the same
    transaction. ``pk`` is ``{district}#refused#{source}#{status}#{reason}#{window start}``.
    """

    class Meta:
        table_name = "onpace-events"

    pk = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    source = UnicodeAttribute()
    http_status = NumberAttribute()
    reason = UnicodeAttribute()  # a code: invalid_signature, invalid_payload, unauthorized, …
    window_start = UnicodeAttribute()
    window_end = UnicodeAttribute()
    refused = NumberAttribute(default=0)
    example = UnicodeAttribute(null=True)  # the first refusal's message in the window
    refusals_open = UnicodeAttribute(null=True)
    reported_at = UnicodeAttribute(null=True)  # when the sweep wrote the window's audit entry
    expires_at = TTLAttribute(null=True)

    open_refusals: ClassVar[OpenRefusalsIndex] = OpenRefusalsIndex()


# ---------------------------------------------------------------------------------------------
# Enrollments with their facts (roster load creates, ingest folds facts, evaluate reads/updates).


class DueIndex(GlobalSecondaryIndex["EnrollmentModel"]):
    """Enrollments by the next date something may be due: the planner queries ``wake_on <= day``.

    Sparse: an enrollment that ended has no ``wake_on`` and drops out of the index. Keys only:
    the planner needs the keys, the workers read the items by key (BatchGetItem), and a fact
    update does not write the item a second time into the index.
    """

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_key = UnicodeAttribute(hash_key=True)  # "{district}#{program}#{shard:02d}"
    wake_on = UnicodeAttribute(range_key=True)


class Contact(MapAttribute[str, Any]):
    role = UnicodeAttribute()  # student | guardian | instructor | counselor | advisor | admin
    address = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    source_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)  # what a contact person is ("School counselor")
    # Text messages (delivery/sms.py): the E.164 number and the roster's choice, "y"/"n" (absent:
    # not said, the program's default applies). One letter: the item stays under 1 KB.
    phone = UnicodeAttribute(null=True)
    sms = UnicodeAttribute(null=True)


def sms_flag(chose: bool | None) -> str | None:
    """A roster choice of texts as stored on a ``Contact``."""
    return None if chose is None else ("y" if chose else "n")


class EnrollmentsByStudentIndex(GlobalSecondaryIndex["EnrollmentModel"]):
    class Meta:
        index_name = "by_student"
        projection = KeysOnlyProjection()

    student_key = UnicodeAttribute(hash_key=True)  # "{district}#{student}"


# Student-wide rules (SAP, failure to thrive) evaluate a student, not a class: the student's item
# lives in the Enrollments table with this class id, so the due index and input routing serve it too.
STUDENT_SUBJECT_CLASS = "*"


class EnrollmentsHeldIndex(GlobalSecondaryIndex["EnrollmentModel"]):
    """Sparse, keys only: only an enrollment whose action waits for a person's approval (status
    ``held``) carries ``held_district``, so the console's approvals queue is one Query of the
    district's held items, whatever the size of its roster (no Scan)."""

    class Meta:
        index_name = "held"
        projection = KeysOnlyProjection()

    held_district = UnicodeAttribute(hash_key=True)  # the district id, while held


class EnrollmentModel(Model):
    """Ingest rewrites this item with every activity event and DynamoDB bills a write by the whole
    item, names included: its attributes are stored under short names (``attr_name``), instants
    and contacts packed (``store.packed``), so that it stays under 1 KB, one write unit
    (docs/scale.md, "Item sizes"). The table key and the index keys keep their names
    (template.yaml defines them). Code uses the Python names; a projection takes stored names
    (``store.packed.stored_names``)."""

    class Meta:
        table_name = "onpace-enrollments"

    enrollment_key = UnicodeAttribute(hash_key=True)  # "{district}#{class}#{student}"
    district_id = UnicodeAttribute(attr_name="d")
    program_id = UnicodeAttribute(attr_name="p")
    class_id = UnicodeAttribute(attr_name="c")
    class_title = UnicodeAttribute(null=True, attr_name="ct")
    student_id = UnicodeAttribute(attr_name="s")
    student_name = UnicodeAttribute(null=True, attr_name="sn")
    term_id = UnicodeAttribute(null=True, attr_name="t")
    start_date = UnicodeAttribute(attr_name="sd")
    end_date = UnicodeAttribute(null=True, attr_name="ed")
    # A granted course extension's end date; the roster's ``end_date`` stays as the roster says.
    extended_end_date = UnicodeAttribute(null=True, attr_name="xd")
    # Activity of the kinds a program's rules count (``CompiledProgram.activity_history``), by
    # event id: "kind instant" (a retried event overwrites nothing).
    activity_log = MapAttribute[str, Any](null=True, attr_name="al")
    # Bumped by every write that changes what the engine sees (activity, inputs) or brings the
    # wake date forward; the evaluator writes its wake date only if it is unchanged since its read.
    facts_seq = NumberAttribute(null=True, attr_name="q")
    status = UnicodeAttribute(default="active", attr_name="st")  # see onpace_rules.facts.EnrollmentStatus
    contacts = ContactsAttribute(default=list, attr_name="co")
    # JSON of onpace_rules.facts.RosterFacts, without what the item says already
    # (``store.enrollments.roster_facts_json``).
    roster_facts = UnicodeAttribute(null=True, attr_name="rf")
    scope = UnicodeAttribute(null=True, attr_name="sc")  # "student" (class_id "*") | none: "enrollment"

    # Facts: latest instant of each activity kind, folded by ingest with conditional updates.
    last_login_at = InstantAttribute(null=True, attr_name="ll")
    last_view_at = InstantAttribute(null=True, attr_name="lv")
    last_submission_at = InstantAttribute(null=True, attr_name="ls")
    last_discussion_post_at = InstantAttribute(null=True, attr_name="lp")
    last_discussion_reply_at = InstantAttribute(null=True, attr_name="lr")
    last_mastery_exercise_at = InstantAttribute(null=True, attr_name="lm")
    last_forum_question_at = InstantAttribute(null=True, attr_name="lq")
    last_instructor_message_at = InstantAttribute(null=True, attr_name="li")
    last_progress_at = InstantAttribute(null=True, attr_name="lg")
    percent_complete = NumberAttribute(null=True, attr_name="pc")
    percent_at = InstantAttribute(null=True, attr_name="pa")
    percent_event = UnicodeAttribute(null=True, attr_name="pe")  # short id of the event that set it
    # What a void falls back on (``facts.fold``): per kind code the latest few (instant, short
    # id), and the latest few progress values, newest first, packed (``ingest.dynamo.pack_recent``).
    recent = MapAttribute[str, Any](null=True, attr_name="r")
    percent_recent = ListAttribute[str](null=True, attr_name="pr")
    # Inputs that are not activity (grades, appeals, approvals…), by event id so a retry is a no-op:
    # event id -> JSON of onpace_rules.inputs.input_to_dict.
    inputs = MapAttribute[str, Any](default=dict, attr_name="in")

    # Engine state: what fired ("{rule}#{episode}" -> "YYYY-MM-DD") and when to look again.
    fired = MapAttribute[str, Any](default=dict, attr_name="f")
    checked_through = UnicodeAttribute(null=True, attr_name="ck")  # last day the evaluator looked at it
    held = UnicodeAttribute(null=True, attr_name="h")  # JSON of the action awaiting approval (status "held")
    # The district id while ``held`` is set (the sparse ``held`` index); written with ``held``.
    held_district = UnicodeAttribute(null=True)
    due_key = UnicodeAttribute(null=True)
    wake_on = UnicodeAttribute(null=True)

    student_key = UnicodeAttribute(null=True)

    due_index: ClassVar[DueIndex] = DueIndex()
    by_student: ClassVar[EnrollmentsByStudentIndex] = EnrollmentsByStudentIndex()
    held_index: ClassVar[EnrollmentsHeldIndex] = EnrollmentsHeldIndex()


# ---------------------------------------------------------------------------------------------
# Outbox: one item per (enrollment, rule id, episode). Its stream feeds the notify function.


class OutboxScheduledIndex(GlobalSecondaryIndex["OutboxModel"]):
    """Sparse: only notices waiting for their morning window (status ``scheduled``) carry
    ``send_key`` (letters never do), so the dispatcher reads one district-day's waiting notices by
    key, those whose window has opened first (``send_after``)."""

    class Meta:
        index_name = "scheduled"
        projection = AllProjection()

    send_key = UnicodeAttribute(hash_key=True)  # "{district}#{local day of the window}"
    send_after = UnicodeAttribute(range_key=True)  # UTC instant the window opens


class LetterMember(MapAttribute[str, Any]):
    """One (notice, recipient) pair a letter carries (``delivery/letters.py``)."""

    notice_id = UnicodeAttribute()
    index = NumberAttribute()  # the recipient's position in the notice's ``recipients``


class OutboxModel(Model):
    class Meta:
        table_name = "onpace-outbox"

    notice_id = UnicodeAttribute(hash_key=True)  # "{enrollment_key}#{rule_id}#{episode}"
    district_id = UnicodeAttribute()
    program_id = UnicodeAttribute()
    enrollment_key = UnicodeAttribute()
    student_id = UnicodeAttribute()
    class_id = UnicodeAttribute()
    class_title = UnicodeAttribute(null=True)
    student_name = UnicodeAttribute(null=True)
    rule_id = UnicodeAttribute()
    episode = UnicodeAttribute()
    kind = UnicodeAttribute()  # notice | action | skipped | letter
    policy_version = UnicodeAttribute()
    decided_on = UnicodeAttribute()  # the evaluation day (program-local date)
    due_on = UnicodeAttribute()  # the date the policy made it due
    deadlines = MapAttribute[str, Any](default=dict)  # name -> YYYY-MM-DD
    facts = MapAttribute[str, Any](default=dict)
    recipients = ListAttribute(of=Contact, default=list)
    # The person a family notice names and its Reply-To (catalogue "Recipients and contact data"),
    # and the names it is signed with; settled when the decision is recorded.
    reply_to = Contact(null=True)
    program_name = UnicodeAttribute(null=True)
    district_name = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="en")
    # pending -> sending -> sent | failed ; skipped (superseded) and suppressed never send;
    # scheduled -> lettered: a notice waiting for its morning window, then delivered by letters.
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    ses_message_id = UnicodeAttribute(null=True)  # of the first recipient's message
    # One SES message per recipient: "r{index}" -> {"status": sending|sent|failed, "message_id", "at"}
    deliveries = MapAttribute[str, Any](default=dict)
    created_at = UnicodeAttribute()
    sent_at = UnicodeAttribute(null=True)
    # The attempt that may send now (delivery/ledger.py): its token and when its lease ends.
    lease_token = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)  # ISO instant (iso_instant), string order = time order
    attempts = NumberAttribute(null=True)  # delivery attempts that claimed the notice
    last_error = MapAttribute[str, Any](null=True)  # {"code", "at"} of the last interrupted attempt
    # Escalation (delivery/escalation.py): on an escalation item, the notice it continues and
    # {"root", "step", "reason", "from_recipient", "from_role", "to_role", "tried",
    # "guardians_allowed"}; on a notice for which no next contact was left, why (set once).
    escalated_from = UnicodeAttribute(null=True)
    escalation = MapAttribute[str, Any](null=True)
    escalation_end = UnicodeAttribute(null=True)
    # The morning window (notices/window.py): a ``scheduled`` notice waits in the sparse
    # ``scheduled`` index until the dispatcher puts it in a letter; ``send_before`` is when the
    # window closes (UTC instant).
    send_key = UnicodeAttribute(null=True)
    send_after = UnicodeAttribute(null=True)
    send_before = UnicodeAttribute(null=True)
    # A letter (``kind == "letter"``, ``delivery/letters.py``): the member notices it delivers.
    members = ListAttribute(of=LetterMember, null=True)

    scheduled: ClassVar[OutboxScheduledIndex] = OutboxScheduledIndex()


# ---------------------------------------------------------------------------------------------
# Audit log: per district, an append-only hash chain ordered by ``seq``.


class AuditByStudentIndex(GlobalSecondaryIndex["AuditModel"]):
    class Meta:
        index_name = "by_student"
        projection = AllProjection()

    district_student = UnicodeAttribute(hash_key=True)  # "{district}#{student}"
    seq = NumberAttribute(range_key=True)


class AuditByRuleIndex(GlobalSecondaryIndex["AuditModel"]):
    class Meta:
        index_name = "by_rule"
        projection = AllProjection()

    district_rule = UnicodeAttribute(hash_key=True)  # "{district}#{rule_id}"
    seq = NumberAttribute(range_key=True)


class AuditFailuresIndex(GlobalSecondaryIndex["AuditModel"]):
    """Sparse: only the entries of work parked in a dead-letter queue carry ``district_failure``,
    so the console lists a district's failures without reading the rest of its log."""

    class Meta:
        index_name = "failures"
        projection = AllProjection()

    district_failure = UnicodeAttribute(hash_key=True)  # the district id, on failure entries only
    seq = NumberAttribute(range_key=True)


class AuditByClassIndex(GlobalSecondaryIndex["AuditModel"]):
    """A class's entries (the console's audit filter by class)."""

    class Meta:
        index_name = "by_class"
        projection = AllProjection()

    district_class = UnicodeAttribute(hash_key=True)  # "{district}#{class_id}"
    seq = NumberAttribute(range_key=True)


class AuditByTypeIndex(GlobalSecondaryIndex["AuditModel"]):
    """Entries of one type (the console's event-type and delivery-status filters)."""

    class Meta:
        index_name = "by_type"
        projection = AllProjection()

    district_type = UnicodeAttribute(hash_key=True)  # "{district}#{type}"
    seq = NumberAttribute(range_key=True)


class AuditByTimeIndex(GlobalSecondaryIndex["AuditModel"]):
    """Keys only: turns a date range into a ``seq`` range with a Query of one item at each end
    (``console/audit_query.py``); the rows themselves are then read by ``seq``."""

    class Meta:
        index_name = "by_time"
        projection = KeysOnlyProjection()

    district_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditModel(Model):
    class Meta:
        table_name = "onpace-audit"

    district_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    at = UnicodeAttribute()  # UTC instant the entry was written
    on = UnicodeAttribute(null=True)  # program-local date it concerns (evaluation day)
    type = UnicodeAttribute()  # ingest.rejected | ingest.unmatched | notice.decided | ...
    actor = UnicodeAttribute()  # function or person that wrote it
    rule_id = UnicodeAttribute(null=True)
    policy_version = UnicodeAttribute(null=True)
    program_id = UnicodeAttribute(null=True)
    student_id = UnicodeAttribute(null=True)
    class_id = UnicodeAttribute(null=True)
    notice_id = UnicodeAttribute(null=True)
    summary = UnicodeAttribute()  # one human sentence
    detail = UnicodeAttribute(default="{}")  # JSON: facts, deadlines, recipients, reasons (hashed as is)
    district_student = UnicodeAttribute(null=True)
    district_rule = UnicodeAttribute(null=True)
    district_failure = UnicodeAttribute(null=True)
    district_class = UnicodeAttribute(null=True)
    district_type = UnicodeAttribute(null=True)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()

    by_student: ClassVar[AuditByStudentIndex] = AuditByStudentIndex()
    by_rule: ClassVar[AuditByRuleIndex] = AuditByRuleIndex()
    failures: ClassVar[AuditFailuresIndex] = AuditFailuresIndex()
    by_class: ClassVar[AuditByClassIndex] = AuditByClassIndex()
    by_type: ClassVar[AuditByTypeIndex] = AuditByTypeIndex()
    by_time: ClassVar[AuditByTimeIndex] = AuditByTimeIndex()


# ---------------------------------------------------------------------------------------------
# Programs: each district's program configurations (validated ProgramConfig as JSON).


class ProgramsByTimeZoneIndex(GlobalSecondaryIndex["ProgramModel"]):
    class Meta:
        index_name = "by_time_zone"
        projection = AllProjection()

    time_zone = UnicodeAttribute(hash_key=True)
    program_key = UnicodeAttribute(range_key=True)


class ProgramModel(Model):
    class Meta:
        table_name = "onpace-programs"

    district_id = UnicodeAttribute(hash_key=True)
    program_id = UnicodeAttribute(range_key=True)
    program_key = UnicodeAttribute()  # "{district}#{program}"
    time_zone = UnicodeAttribute()
    policy_version = UnicodeAttribute()
    config = UnicodeAttribute()  # ProgramConfig as JSON
    # Ids of the calendar changes whose application the evaluator has audited; written only in
    # the transaction that writes that audit entry (exactly once across re-runs).
    calendar_changes_audited = UnicodeSetAttribute(null=True)

    by_time_zone: ClassVar[ProgramsByTimeZoneIndex] = ProgramsByTimeZoneIndex()


# The time zones programs use, kept in the Programs table under one reserved partition so that
# the hourly evaluation planner lists them with one Query (the ``by_time_zone`` index cannot list
# its own partition keys without a Scan).
TIME_ZONES_PARTITION = "#time-zones"


class TimeZoneModel(Model):
    """One time zone some program's days begin in (written with each program)."""

    class Meta:
        table_name = "onpace-programs"

    district_id = UnicodeAttribute(hash_key=True)  # always ``TIME_ZONES_PARTITION``
    program_id = UnicodeAttribute(range_key=True)  # the IANA time zone name


# The console's student directory (``console/directory.py``) lives in the Programs table under
# one partition per district, ``dir#{district}``: a district id never contains ``#``, so it
# cannot meet a program's partition, and the table already has the string sort key a prefix
# search needs (begins_with), which the Enrollments table (hash key only) lacks.
DIRECTORY_PREFIX = "dir#"


class DirectoryModel(Model):
    """One item of a district's student directory.

    Sort keys: ``s#{student_id}`` the student's record (read by key for names), ``t#{token}#{student_id}``
    one per search token (a folded name word, the email, the sourcedId) carrying a copy of what a
    result shows, so a search is one Query; ``c#{class_id}`` a class's title.
    """

    class Meta:
        table_name = "onpace-programs"

    district_id = UnicodeAttribute(hash_key=True)  # "dir#{district}"
    program_id = UnicodeAttribute(range_key=True)  # the sort key above
    student_id = UnicodeAttribute(null=True)
    class_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)  # display name (student) or title (class)
    email = UnicodeAttribute(null=True)
    grade = UnicodeAttribute(null=True)
    # class id -> {"title": str, "ended": "YYYY-MM-DD" | absent}
    classes = MapAttribute[str, Any](null=True)
    removed_on = UnicodeAttribute(null=True)  # UTC date the student's last enrollment ended
    tokens = ListAttribute[str](null=True)  # every token of the student (search filters on them)
    updated_at = UnicodeAttribute(null=True)


# ---------------------------------------------------------------------------------------------
# Suppressed addresses: per district, the addresses SES reported hard-bounced or complained about.


class SuppressionModel(Model):
    """One suppressed address of a district (``delivery/suppression.py``).

    Keyed by the district, so every read and write stays inside one district, and by the SHA-256
    of the normalised address: the list is read by key (BatchGetItem) when notify prepares a
    notice, and the address itself is not kept, only a masked form for the console.
    """

    class Meta:
        table_name = "onpace-suppressions"

    district_id = UnicodeAttribute(hash_key=True)
    address_hash = UnicodeAttribute(range_key=True)  # sha256 hex of the lower-cased address
    masked = UnicodeAttribute()  # "j***@example.org": enough for an admin to recognise it
    reason = UnicodeAttribute()  # bounce | complaint
    detail = UnicodeAttribute(null=True)  # SES's bounce subtype or complaint feedback type
    role = UnicodeAttribute(null=True)  # the recipient's roster role when it was suppressed
    rule_id = UnicodeAttribute(null=True)
    at = UnicodeAttribute()  # when SES reported it (UTC instant)


ALL_MODELS: tuple[type[Model], ...] = (
    RawEventModel,
    IdentityModel,
    RefusalWindowModel,
    EnrollmentModel,
    OutboxModel,
    AuditModel,
    ProgramModel,
    TimeZoneModel,
    DirectoryModel,
    SuppressionModel,
)


def bind_tables(settings: Settings) -> None:
    """Point every model at the table names (and region) of this deployment.

    Called by each handler at cold start; the endpoint comes from botocore's own
    ``AWS_ENDPOINT_URL`` so the same code talks to AWS or to the local moto server.
    """
    names = {
        RawEventModel: settings.events_table,
        IdentityModel: settings.events_table,
        RefusalWindowModel: settings.events_table,
        EnrollmentModel: settings.enrollments_table,
        OutboxModel: settings.outbox_table,
        AuditModel: settings.audit_table,
        ProgramModel: settings.programs_table,
        TimeZoneModel: settings.programs_table,
        DirectoryModel: settings.programs_table,
        SuppressionModel: settings.suppressions_table,
    }
    for model, name in names.items():
        model.Meta.table_name = name
        model.Meta.region = settings.aws_region
        # pynamodb caches its connection per model; a new binding must not reuse the old one.
        model._connection = None
        for index in model._indexes.values():
            index._connection = None  # type: ignore[attr-defined]
