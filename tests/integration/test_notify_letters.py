"""Letters against moto server: the morning window, household and instructor digests, exactly once.

The evaluator's notices are inserted ``scheduled`` (as ``outbox.outbox_item`` records them
overnight); ``DispatchFunction`` letters them when the window opens; the letters' INSERT records
go to ``NotifyFunction`` as the outbox stream would hand them over. Every email is read back
from moto's SES. Every handler call is also checked against its role in template.yaml.
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from onpace_core.audit.log import verify_chain
from onpace_core.delivery.sender import deliver
from onpace_core.store.models import Contact, OutboxModel
from onpace_local.stack import LocalStack

from tests.integration.test_notify import TEMPLATES, _audit, _event_for, _insert, _refreshed, _sent, _settings
from tests.integration.test_notify_faults import Killed, _KilledAfterSend
from tests.unit.letter_cases import DAY, GUARDIAN, TEACHER, household_notices

pytestmark = [pytest.mark.integration, pytest.mark.dynamodb(needs=("transactions", "streams"))]

BEFORE = "2026-10-16T11:10:00Z"  # 06:10 in Chicago: the window (07:00-09:00) is not open
OPEN = "2026-10-16T12:10:00Z"  # 07:10
STUDENTS = ("jamie@students.example", "sam@students.example")


def _household(stack: LocalStack) -> tuple[str, list[OutboxModel]]:
    district = f"d-{uuid.uuid4().hex[:10]}"
    return district, [_insert(n) for n in household_notices(district)]


def _dispatch(stack: LocalStack, district: str, at: str) -> dict[str, Any]:
    result = stack.invoke("DispatchFunction", {"district_id": district, "day": DAY, "scheduled_time": at})
    (day,) = result["days"]
    assert isinstance(day, dict)
    return day


def _letters(district: str) -> list[OutboxModel]:
    prefix = f"letter#{district}#{DAY}#"
    items = [
        OutboxModel.get(i.notice_id, consistent_read=True)
        for i in OutboxModel.scan(OutboxModel.kind == "letter")
    ]
    return sorted((i for i in items if i.notice_id.startswith(prefix)), key=lambda i: i.notice_id)


def _notify(stack: LocalStack, letter: OutboxModel) -> None:
    response = stack.invoke("NotifyFunction", _event_for(stack, letter))
    assert response == {"batchItemFailures": []}


def _letter_to(letters: list[OutboxModel], address: str) -> list[OutboxModel]:
    return [letter for letter in letters if (letter.recipients[0].address or "").lower() == address]


def _calendar_events(message: email.message.EmailMessage) -> list[str]:
    (part,) = [p for p in message.walk() if p.get_filename() == "deadline.ics"]
    text = part.get_content()
    text = text.decode() if isinstance(text, bytes) else text
    return [line.split(":", 1)[1] for line in text.splitlines() if line.startswith("X-ONPACE-DEADLINE:")]


def test_overnight_notices_wait_for_the_window(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    # The stream hands the evaluator's INSERTs to notify, which sends nothing that waits.
    for notice in notices:
        _notify(local_stack, notice)
        assert _sent(local_stack, notice.notice_id) == []
        assert _refreshed(notice).status == "scheduled"
    before = _dispatch(local_stack, district, BEFORE)
    assert before["letters"] == 0 and before["notices"] == 0
    assert _letters(district) == []


def test_one_letter_per_household_with_every_member_and_nothing_twice(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    first = _dispatch(local_stack, district, OPEN)
    assert first == {**first, "notices": 3, "letters": 4, "digests": 2}
    letters = _letters(district)
    for letter in letters:
        _notify(local_stack, letter)

    # One email per address: the guardian's holds the three notices of two children and two courses.
    sent = {letter.notice_id: _sent(local_stack, letter.notice_id) for letter in letters}
    assert sorted(to for messages in sent.values() for to, _, _ in messages) == sorted(
        [GUARDIAN, TEACHER, *STUDENTS]
    )
    (family,) = _letter_to(letters, GUARDIAN)
    ((_, message, message_id),) = sent[family.notice_id]
    assert str(message["Subject"]).strip() == "Action required: 3 notices about your courses"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.index("Sam Rivera has been dropped") < text.index("Jamie Rivera has completed 10%")
    assert sorted(_calendar_events(message)) == ["appeal", "drop", "drop", "ipr", "last_day"]
    (teacher,) = _letter_to(letters, TEACHER)
    ((_, staff_message, _),) = sent[teacher.notice_id]
    assert str(staff_message["Subject"]).strip().startswith("Students to contact today (2)")

    # Every member's delivery entry names its letter and SES's message id; each has its entry.
    for notice in notices:
        stored = _refreshed(notice)
        assert stored.status == "lettered" and stored.send_key is None
        for index, contact in enumerate(stored.recipients):
            entry = stored.deliveries[f"r{index}"]
            (letter,) = _letter_to(letters, contact.address.lower())
            assert entry["status"] == "sent" and entry["letter"] == letter.notice_id
            ((_, _, expected_id),) = sent[letter.notice_id]
            assert entry["message_id"] == expected_id
        audited = _audit(stored, "notice.sent")
        assert len(audited) == len(stored.recipients)
        for entry in audited:
            detail = json.loads(entry.detail)
            assert entry.rule_id == stored.rule_id and entry.policy_version == stored.policy_version
            assert detail["facts"] and detail["letter"].startswith(f"letter#{district}#")
    assert _refreshed(family).status == "sent" and _refreshed(family).ses_message_id == message_id
    (letter_entry,) = _audit(family, "letter.sent")
    assert len(json.loads(letter_entry.detail)["members"]) == 3
    assert verify_chain(district).intact

    # Again: the dispatcher finds nothing waiting, redelivered stream records send nothing.
    again = _dispatch(local_stack, district, "2026-10-16T13:10:00Z")
    assert again["letters"] == 0
    for letter in letters:
        _notify(local_stack, letter)
    assert sum(len(_sent(local_stack, letter.notice_id)) for letter in letters) == 4
    assert [item.notice_id for item in _letters(district)] == [item.notice_id for item in letters]
    for notice in notices:
        assert len(_audit(notice, "notice.sent")) == len(notice.recipients)


def test_a_notice_after_the_households_letter_goes_in_a_second_letter(local_stack: LocalStack) -> None:
    district, _ = _household(local_stack)
    _dispatch(local_stack, district, OPEN)
    for letter in _letters(district):
        _notify(local_stack, letter)
    (first,) = _letter_to(_letters(district), GUARDIAN)

    # An approval taken at 07:30 makes another notice for the household that morning.
    (late,) = household_notices(district)[2:]
    late.notice_id = late.notice_id.replace("#ep-1", "#ep-2")
    late.episode = "ep-2"
    late.recipients = [Contact(role="guardian", address=GUARDIAN, name="Ana Rivera")]
    _insert(late)
    second = _dispatch(local_stack, district, "2026-10-16T13:10:00Z")
    assert second["letters"] == 1 and second["notices"] == 1
    later = [
        letter for letter in _letter_to(_letters(district), GUARDIAN) if letter.notice_id != first.notice_id
    ]
    (letter,) = later
    assert letter.notice_id == f"{first.notice_id}#2"
    _notify(local_stack, letter)
    ((to, _, message_id),) = _sent(local_stack, letter.notice_id)
    assert to == GUARDIAN
    assert len(_sent(local_stack, first.notice_id)) == 1  # the first letter is not sent again
    stored = _refreshed(late)
    assert stored.deliveries["r0"]["letter"] == letter.notice_id
    assert stored.deliveries["r0"]["message_id"] == message_id


def test_killed_after_ses_accepted_a_letter_is_never_sent_again(local_stack: LocalStack) -> None:
    district, notices = _household(local_stack)
    _dispatch(local_stack, district, OPEN)
    (family,) = _letter_to(_letters(district), GUARDIAN)
    settings = _settings(local_stack)
    ses = local_stack.client("sesv2")
    t0 = datetime(2026, 10, 16, 12, 11, tzinfo=UTC)

    with pytest.raises(Killed):
        deliver(family.notice_id, _KilledAfterSend(ses, after=1), settings, TEMPLATES, now=t0, time_left=30)
    assert len(_sent(local_stack, family.notice_id)) == 1
    # The stream record redelivered after the lease: no second email, the outcome stays unknown.
    late = deliver(family.notice_id, ses, settings, TEMPLATES, now=t0 + timedelta(minutes=2))
    assert late.sent_now == 0 and late.status == "unconfirmed"
    assert len(_sent(local_stack, family.notice_id)) == 1
    for notice in notices:
        stored = _refreshed(notice)
        for index, contact in enumerate(stored.recipients):
            if contact.address.lower() == GUARDIAN:
                entry = stored.deliveries[f"r{index}"]
                assert entry["status"] == "unconfirmed" and entry["letter"] == family.notice_id
        assert len(_audit(stored)) == sum(1 for c in stored.recipients if c.address.lower() == GUARDIAN)
    assert verify_chain(district).intact


def test_requests_per_email_before_and_after_letters(local_stack: LocalStack) -> None:
    """docs/scale.md, "Letters": the household's morning sent notice by notice (before issue 12,
    item 6) and as letters, DynamoDB requests counted over the real handlers."""
    from onpace_local.request_count import counting_requests

    warm = household_notices(f"d-{uuid.uuid4().hex[:10]}")[0]
    warm.status, warm.send_key, warm.send_after = "pending", None, None
    _notify(local_stack, _insert(warm))  # imports and first-send work out of the count
    _dispatch(local_stack, warm.district_id, OPEN)  # the dispatcher's too (whatever ran before)

    before_district = f"d-{uuid.uuid4().hex[:10]}"
    direct = []
    for notice in household_notices(before_district):
        notice.status, notice.send_key, notice.send_after = "pending", None, None
        direct.append(_insert(notice))
    with counting_requests() as before:
        for notice in direct:
            _notify(local_stack, notice)
    emails_before = sum(len(_sent(local_stack, n.notice_id)) for n in direct)

    district, _ = _household(local_stack)
    with counting_requests() as dispatching:
        _dispatch(local_stack, district, OPEN)
    letters = _letters(district)
    with counting_requests() as sending:
        for letter in letters:
            _notify(local_stack, letter)
    emails_after = sum(len(_sent(local_stack, letter.notice_id)) for letter in letters)

    after = dispatching.dynamodb() + sending.dynamodb()
    print(
        f"\nbefore: {before.dynamodb()} DynamoDB requests for {emails_before} emails "
        f"({before.dynamodb() / emails_before:.2f} per email); after: {dispatching.dynamodb()} "
        f"to dispatch + {sending.dynamodb()} to send = {after} for {emails_after} emails "
        f"({after / emails_after:.2f} per email, {after / emails_before:.2f} per notice recipient)"
    )
    assert (emails_before, emails_after) == (7, 4)
    assert dispatching.of("Scan") == 0 and sending.of("Scan") == 0
    assert dispatching.of("Query") == 1 and dispatching.of("TransactWriteItems") == len(letters)
    # Per letter: claim, members, suppression list, mark, audit head, transaction; and one
    # BatchGetItem of the enrollments of a letter with warning members not yet sent (the re-check
    # at send): two of the three letters carrying a warning here — a warning one of whose letters
    # was sent already is finished and not re-checked (the letters go in id order).
    rechecks = sending.of("BatchGetItem", local_stack.ref("EnrollmentsTable"))
    assert rechecks == 2 and sending.of("GetItem", local_stack.ref("EnrollmentsTable")) == 0
    assert sending.dynamodb() <= 6 * len(letters) + rechecks


def test_the_schedule_evaluates_at_midnight_and_dispatches_when_the_programs_window_opens(
    local_stack: LocalStack,
) -> None:
    """The deployed path end to end: the planner's schedule records the day's notices at local
    midnight, the dispatcher's schedule letters them only once the program's own window (here
    08:00-10:00 Chicago time) has opened."""
    from onpace_local.evaluation import run_day

    from tests.integration.districts import make_district

    district = make_district(
        local_stack,
        {"cps.pacing.ipr_warning_2w": {}},
        students=("stu-a",),
        settings={"send_window": {"start": "08:00", "end": "10:00"}},
    )
    run_day(local_stack, date(2026, 9, 25), "America/Chicago")
    (notice,) = list(OutboxModel.scan(OutboxModel.district_id == district.district_id))
    assert notice.status == "scheduled" and notice.send_key == f"{district.district_id}#2026-09-25"
    assert notice.send_after == "2026-09-25T13:00:00.000000Z"  # 08:00 CDT

    def dispatched(at: str) -> list[dict[str, Any]]:
        days = local_stack.invoke("DispatchFunction", {"scheduled_time": at})["days"]
        return [d for d in days if d["district_id"] == district.district_id]

    assert dispatched("2026-09-25T12:10:00Z") == []  # 07:10: the default window, not this program's
    (today,) = [d for d in dispatched("2026-09-25T13:10:00Z") if d["day"] == "2026-09-25"]
    assert today["notices"] == 1 and today["letters"] == 2  # the student and the guardian
    assert _refreshed(notice).status == "lettered"
