"""Text messages to guardians who chose them (issue 12, scope 7): who, when, and exactly once.

**Who.** A recipient of the notice whose roster record gives a mobile number (E.164,
``roster.phones``) and who chose texts: the roster says yes (``sms``, ``metadata.onpace.sms``),
or it says nothing and the program's ``sms.guardians`` is true. Only guardians by default; a
student only where the program's ``sms.students`` says so, and never where the Chicago channel
policy (``cps_chicago.channel.district_email_only``: "never a text message") is in force. Staff
never. A program without ``sms.enabled`` sends none (and costs no request: the program is read
only for a notice with a recipient who has a number).

**How.** SNS ``Publish(PhoneNumber=…)`` with ``AWS.SNS.SMS.SMSType=Transactional`` and the
sender id / origination number of the settings. (AWS End User Messaging SMS v2 is the newer API,
but moto does not implement it; SNS sends through the same service.) Before each text,
``CheckIfPhoneNumberIsOptedOut``: SNS keeps the account's opt-out list from STOP replies; an
opted-out number is recorded ``opted_out`` and audited ``sms.opted_out``, never texted.

**When.** Never in the program's quiet hours (default 20:00–08:00 in its time zone): a text due
then is recorded ``deferred`` with ``after``, the first instant it may go (the quiet hours' end,
local wall time, DST included). The notice is settled as usual with its emails; the notify
function sends the notice's id back to its retry queue (the longest delay SQS allows, 15 minutes,
again until ``after``) and the attempt that finds the notice settled with a text due sends it
(:func:`after_settled`).

**Exactly once.** A text is a delivery entry of the notice, ``deliveries.s{i}`` next to the
emails' ``r{i}`` (``i`` the recipient's index). Sent within the attempt that holds the notice's
lease, it follows the emails' discipline (``ledger.mark`` before the Publish, the answer settled
with the notice's audit entry). A deferred text sent later is claimed on its own: one
conditional update turns ``deferred`` into ``sending`` for this attempt's token, and the answer is
written with its ``sms.sent`` audit entry in one transaction conditional on that mark
(``audit.log.append_claimed``). An entry left ``sending`` by an attempt that died is never sent
again. A text's outcome does not change the notice's status (the emails' outcome).
"""

from __future__ import annotations

import time as clock
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError
from onpace_rules.program import ProgramConfig, QuietHours
from pynamodb.exceptions import UpdateError

from onpace_core.audit.log import AuditEntry, Claim, append_claimed, iso_instant
from onpace_core.delivery import ledger
from onpace_core.delivery.evidence import notice_entry, plain
from onpace_core.delivery.letters import LETTER, members_of
from onpace_core.notices.sms_text import compose, first_deadline
from onpace_core.settings import Settings
from onpace_core.store.models import Contact, OutboxModel, ProgramModel
from onpace_core.store.programs import get_program

SMS_TYPE = "Transactional"
CHANNEL_RULE = "cps_chicago.channel.district_email_only"  # onpace_rules.rules.chicago.CHANNEL
#: Roster roles a text can go to (guardians; students where the program allows it).
FAMILY_ROLES = frozenset({"guardian", "parent"})
#: SNS error codes after which the text was certainly not accepted and a retry cannot help.
DEFINITE_REJECTIONS = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "EndpointDisabled"})
DEFERRED = "deferred"
OPTED_OUT = "opted_out"
#: Seconds a program read stays good in a warm container (as the re-check's compiled program).
CACHE_SECONDS = 300.0

_programs: dict[tuple[str, str], tuple[float, ProgramConfig | None]] = {}


def text_key(index: int) -> str:
    """The delivery entry of recipient ``index``'s text (the email's is ``r{index}``)."""
    return f"s{index}"


def masked(phone: str | None) -> str:
    """``+13125550123`` → ``+1…23``: enough for an admin to tell two numbers apart."""
    text = phone or ""
    return f"{text[:2]}…{text[-2:]}" if len(text) > 4 else "…"


# ---------------------------------------------------------------------------------------------
# Who and when (pure)


def wants_text(contact: Contact, program: ProgramConfig) -> bool:
    """Whether ``contact`` gets a text about a notice of ``program`` (see the module doc)."""
    settings = program.sms
    if not settings.enabled or not contact.phone or contact.sms == "n":
        return False
    if contact.role == "student":
        forbidden = CHANNEL_RULE in program.rules or any(
            CHANNEL_RULE in v.rules and v.rules[CHANNEL_RULE] is not None for v in program.versions
        )
        return settings.students and contact.sms == "y" and not forbidden
    if contact.role in FAMILY_ROLES:
        return contact.sms == "y" or settings.guardians
    return False


def quiet_until(now: datetime, time_zone: str, quiet: QuietHours) -> datetime | None:
    """When quiet hours end if ``now`` is in them (a UTC instant), else None: send now.

    Quiet hours are wall-clock times in the program's zone; from ``start`` to ``end``, wrapping
    midnight when ``end`` comes first (the default 20:00–08:00). On a DST change day the end is
    still the local wall time (08:00 is 08:00 in summer and winter time).
    """
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    start, end = quiet.start, quiet.end
    inside = (start <= moment < end) if start < end else (moment >= start or moment < end)
    if not inside:
        return None
    day = local.date()
    wall = datetime.combine(day, end)
    if wall <= local.replace(tzinfo=None):
        wall = datetime.combine(day + timedelta(days=1), end)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def program_for(notice: OutboxModel) -> ProgramConfig | None:
    """The notice's program (one GetItem, kept a few minutes per container); None if not stored."""
    key = (notice.district_id, notice.program_id)
    now = clock.monotonic()
    cached = _programs.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        program: ProgramConfig | None = get_program(notice.district_id, notice.program_id)
    except ProgramModel.DoesNotExist:
        program = None
    _programs[key] = (now + CACHE_SECONDS, program)
    return program


def _link(program: ProgramConfig) -> str | None:
    return program.notices.url if program.notices is not None else None


# ---------------------------------------------------------------------------------------------
# SNS


def is_opted_out(sns_client: Any, phone: str) -> bool:
    """Whether the number replied STOP (SNS's account-wide opt-out list)."""
    answer = sns_client.check_if_phone_number_is_opted_out(phoneNumber=phone)
    return bool(answer.get("isOptedOut"))


def publish(sns_client: Any, settings: Settings, phone: str, body: str) -> str:
    """Send one text; returns SNS's message id."""
    attributes: dict[str, dict[str, str]] = {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": SMS_TYPE},
    }
    if settings.sms_sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": settings.sms_sender_id}
    if settings.sms_origination_number:
        attributes["AWS.MM.SMS.OriginationNumber"] = {
            "DataType": "String",
            "StringValue": settings.sms_origination_number,
        }
    response = sns_client.publish(PhoneNumber=phone, Message=body, MessageAttributes=attributes)
    return str(response["MessageId"])


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


# ---------------------------------------------------------------------------------------------
# Within the attempt that holds the notice's lease


class Holder(Protocol):
    """What the sender's attempt shares with the texts (``delivery/sender.py`` ``_Attempt``)."""

    notice: OutboxModel
    token: str
    at: str
    deliveries: dict[str, dict[str, Any]]
    learned: dict[str, dict[str, Any]]
    release: list[str]

    def written(self) -> None:
        """``learned`` was written with the last mark: fold it into ``deliveries``."""


@dataclass(frozen=True)
class Texts:
    """What a call did with the notice's texts: sent now, and the first deferred one's instant."""

    sent_now: int = 0
    after: str | None = None


def _texted(notice: OutboxModel) -> list[tuple[int, Contact]]:
    return [(i, c) for i, c in enumerate(notice.recipients or []) if c.phone]


def about(notice: OutboxModel, members: Sequence[OutboxModel] | None = None) -> OutboxModel:
    """The notice a text is written about: the notice itself, or for a letter (one text per
    letter, so per phone number and window) the member with the earliest deadline, ``members``
    being those its email carried (read when not given, less those the re-check cancelled)."""
    if notice.kind != LETTER:
        return notice
    if members is None:
        members = [
            m.notice
            for m in members_of(notice)
            if (plain(m.notice.deliveries).get(m.key) or {}).get("status") != "cancelled"
        ]
    if not members:
        return notice
    return min(members, key=lambda n: (first_deadline(n) is None, first_deadline(n) or date.max))


def send_texts(
    holder: Holder, sns_client: Any, settings: Settings, templates_dir: Path, now: datetime
) -> Texts:
    """Text the recipients of the claimed notice who chose texts and have none yet (the hook the
    sender calls after its emails). Raises what stopped it after giving back its mark, like an
    email (the retry texts the rest)."""
    notice = holder.notice
    candidates = [
        (i, c)
        for i, c in _texted(notice)
        if text_key(i) not in holder.deliveries and text_key(i) not in holder.learned
    ]
    if sns_client is None or not candidates:
        return Texts()
    if getattr(holder, "members", None) == []:
        return Texts()  # a letter left with no member (all opted out): nothing to text about
    program = program_for(notice)
    if program is None:
        return Texts()
    sent = 0
    wait = quiet_until(now, program.time_zone, program.sms.quiet_hours)
    for index, contact in candidates:
        if not wants_text(contact, program):
            continue
        key = text_key(index)
        if wait is not None:
            holder.learned[key] = {"status": DEFERRED, "after": iso_instant(wait), "at": holder.at}
            continue
        phone = str(contact.phone)
        if is_opted_out(sns_client, phone):
            holder.learned[key] = {"status": OPTED_OUT, "at": holder.at}
            continue
        try:
            carried = getattr(holder, "members", None)
            subject = about(notice, [m.notice for m in carried] if carried is not None else None)
            message = compose(subject, contact, templates_dir, link=_link(program))
        except Exception as error:
            # A text must not hold up the notice whose emails went: a broken text template
            # fails the text (the log and the audit entry say which error), not the notice.
            holder.learned[key] = {"status": "failed", "error": type(error).__name__, "at": holder.at}
            continue
        mark = {"status": "sending", "at": holder.at, "by": holder.token}
        ledger.mark(notice, holder.token, key, mark, holder.learned)
        holder.written()
        holder.deliveries[key] = mark
        try:
            message_id = publish(sns_client, settings, phone, message.body)
        except ClientError as error:
            if _code(error) in DEFINITE_REJECTIONS:
                holder.learned[key] = {"status": "failed", "error": _code(error), "at": holder.at}
                continue
            holder.release.append(key)
            raise
        except Exception:
            holder.release.append(key)
            raise
        holder.learned[key] = _sent_entry(message_id, holder.at, message.segments.count, message.language)
        sent += 1
    return Texts(sent, iso_instant(wait) if wait is not None and _has_deferred(holder.learned) else None)


def _has_deferred(entries: Mapping[str, Mapping[str, Any]]) -> bool:
    return any(k.startswith("s") and e.get("status") == DEFERRED for k, e in entries.items())


def _sent_entry(message_id: str, at: str, parts: int, language: str) -> dict[str, Any]:
    return {"status": "sent", "message_id": message_id, "at": at, "segments": parts, "language": language}


def text_details(notice: OutboxModel, deliveries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The texts of a notice as its audit entry lists them (masked numbers, no text)."""
    out = []
    for index, contact in _texted(notice):
        entry = deliveries.get(text_key(index))
        if entry is None:
            continue
        out.append(
            {
                "index": index,
                "role": contact.role,
                "phone": masked(contact.phone),
                # Still marked when the notice settles: the attempt died after it, SNS may have
                # taken the text (never sent again), as an email's ``unconfirmed``.
                "status": "unconfirmed" if entry.get("status") == "sending" else entry.get("status"),
                "message_id": entry.get("message_id"),
                "after": entry.get("after"),
                "error": entry.get("error"),
            }
        )
    return out


def with_texts(
    entry: AuditEntry, notice: OutboxModel, deliveries: Mapping[str, Mapping[str, Any]]
) -> AuditEntry:
    """The notice's audit entry, listing its texts too when it has any."""
    texts = text_details(notice, deliveries)
    if not texts:
        return entry
    from dataclasses import replace

    return replace(entry, detail={**entry.detail, "texts": texts})


# ---------------------------------------------------------------------------------------------
# After the notice is settled: opted-out audits, deferred texts


def after_settled(
    notice: OutboxModel,
    sns_client: Any,
    settings: Settings,
    templates_dir: Path,
    now: datetime,
    deliveries: Mapping[str, Mapping[str, Any]] | None = None,
) -> Texts:
    """Finish the texts of a settled notice (its ``deliveries``, by default as read): audit each
    ``opted_out`` one not audited yet, and send each ``deferred`` one whose ``after`` has come.
    Returns the first ``after`` still to come."""
    deliveries = plain(notice.deliveries) if deliveries is None else deliveries
    texts = [(i, c, deliveries[text_key(i)]) for i, c in _texted(notice) if text_key(i) in deliveries]
    for index, contact, entry in texts:
        if entry.get("status") == OPTED_OUT and not entry.get("audited"):
            _audit_opted_out(notice, index, contact, now, from_status=OPTED_OUT)
    waiting = [(i, c, e) for i, c, e in texts if e.get("status") == DEFERRED]
    if not waiting or sns_client is None:
        return Texts()
    program = program_for(notice)
    at = iso_instant(now)
    sent = 0
    later: list[str] = []
    for index, contact, entry in waiting:
        if program is None or not wants_text(contact, program):
            _settle_alone(
                notice, index, contact, {"status": "failed", "error": "no longer chosen", "at": at}, now
            )
            continue
        wait = quiet_until(now, program.time_zone, program.sms.quiet_hours)
        due = str(entry.get("after") or at)
        if wait is not None:
            later.append(iso_instant(wait))
            continue
        if due > at:
            later.append(due)
            continue
        phone = str(contact.phone)
        if is_opted_out(sns_client, phone):
            _audit_opted_out(notice, index, contact, now, from_status=DEFERRED)
            continue
        token = uuid.uuid4().hex
        if not _claim_deferred(notice, index, token, at):
            continue  # another attempt took it
        message = compose(about(notice), contact, templates_dir, link=_link(program))
        try:
            message_id = publish(sns_client, settings, phone, message.body)
        except ClientError as error:
            if _code(error) not in DEFINITE_REJECTIONS:
                _give_back(notice, index, token, entry)
                raise
            failed = {"status": "failed", "error": _code(error), "at": at}
            _settle_alone(notice, index, contact, failed, now, token=token)
            continue
        except Exception:
            _give_back(notice, index, token, entry)
            raise
        _settle_alone(
            notice,
            index,
            contact,
            _sent_entry(message_id, at, message.segments.count, message.language),
            now,
            token=token,
        )
        sent += 1
    return Texts(sent, min(later) if later else None)


@dataclass(frozen=True)
class Later:
    """What the sender passes for a notice it finds settled: the texts it may still owe."""

    sns_client: Any
    settings: Settings
    templates_dir: Path

    def finish(self, notice: OutboxModel, now: datetime) -> Texts:
        """``after_settled`` for ``notice`` (as read), with this attempt's clients."""
        return after_settled(notice, self.sns_client, self.settings, self.templates_dir, now)


def _claim_deferred(notice: OutboxModel, index: int, token: str, at: str) -> bool:
    path = OutboxModel.deliveries[text_key(index)]
    item = OutboxModel(notice_id=notice.notice_id)
    try:
        item.update(
            actions=[path.set({"status": "sending", "at": at, "by": token})],
            condition=path["status"] == DEFERRED,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _give_back(notice: OutboxModel, index: int, token: str, entry: Mapping[str, Any]) -> None:
    """SNS certainly did not take the text (or the call failed here): deferred again, for the retry."""
    path = OutboxModel.deliveries[text_key(index)]
    item = OutboxModel(notice_id=notice.notice_id)
    item.update(actions=[path.set(dict(entry))], condition=path["by"] == token)


def _settle_alone(
    notice: OutboxModel,
    index: int,
    contact: Contact,
    entry: Mapping[str, Any],
    now: datetime,
    *,
    token: str | None = None,
) -> None:
    """A deferred text's outcome and its audit entry, in one transaction: from this attempt's mark
    (``token``), or straight from ``deferred``."""
    path = OutboxModel.deliveries[text_key(index)]
    condition = (path["by"] == token) if token else (path["status"] == DEFERRED)
    status = str(entry["status"])
    audit = _text_entry(notice, index, contact, f"sms.{status}", entry)
    append_claimed(
        notice.district_id,
        audit,
        Claim(OutboxModel(notice_id=notice.notice_id), [path.set(dict(entry))], condition),
        now,
    )


def _audit_opted_out(
    notice: OutboxModel, index: int, contact: Contact, now: datetime, *, from_status: str
) -> None:
    """``sms.opted_out``, once: the entry is written with a mark that it was (``audited``)."""
    path = OutboxModel.deliveries[text_key(index)]
    at = iso_instant(now)
    entry = {"status": OPTED_OUT, "at": at, "audited": at}
    audit = _text_entry(notice, index, contact, "sms.opted_out", entry)
    condition = (path["status"] == from_status) & path["audited"].does_not_exist()
    append_claimed(
        notice.district_id,
        audit,
        Claim(OutboxModel(notice_id=notice.notice_id), [path.set(entry)], condition),
        now,
    )


_WORDS: Mapping[str, str] = {
    "sms.sent": "was sent",
    "sms.opted_out": "was not sent: the number opted out of texts (STOP)",
    "sms.failed": "was not sent",
}


def _text_entry(
    notice: OutboxModel, index: int, contact: Contact, type_: str, entry: Mapping[str, Any]
) -> AuditEntry:
    from onpace_rules.titles import rule_title

    error = f" ({entry['error']})" if entry.get("error") else ""
    who = notice.student_name or notice.student_id
    summary = (
        f"Text message about {rule_title(notice.rule_id)} for {who} to the {contact.role} (r{index}) "
        f"{_WORDS.get(type_, 'was settled')}{error}."
    )
    detail: MutableMapping[str, Any] = {
        "index": index,
        "role": contact.role,
        "phone": masked(contact.phone),
        **{k: v for k, v in entry.items() if k in ("status", "message_id", "error", "segments", "language")},
    }
    return notice_entry(notice, type_, summary, dict(detail))


def seconds_until(after: str, now: datetime) -> float:
    """Seconds from ``now`` to the ISO instant ``after`` (0 when it has come)."""
    return max(0.0, (datetime.fromisoformat(after.replace("Z", "+00:00")) - now).total_seconds())
