"""The notify benchmark: waiting notices through the real dispatcher and notify handler into SES.

N notices of the CPS IPR warning (two deadlines, so every email carries ``deadline.ics``), each to
a student (English) and two guardians (one reading Spanish) whom two siblings share, are put in
the outbox as the evaluator leaves them (waiting for the morning window); the real dispatcher
puts them into letters (one per address: a household digest for each pair of siblings) and the
letters' stream records are handed to the real notify handler in batches of 10 (the template's
batch size):
every warning is re-checked against its enrollment (the students of ``bench.district``, who have
reported no progress, so every warning stands), every email is rendered (Jinja2, gettext, Babel),
encoded as MIME, checked against the suppression list, kept in the sent-mail bucket and handed to
SES, and every notice settled and audited. Against it, in the same run on the
same moto server, the floor of any sender: bare ``send_email`` calls with one ready-made raw
message each, as many as the notices' emails. Prints emails per second of both and their ratio
(the speed of moto and of this machine cancel out), and DynamoDB requests per email, by operation.

    python -m bench.run notify [--notices N]
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

BATCH = 10  # NotifyFunction's stream BatchSize in template.yaml


DAY = "2026-09-25"
WINDOW = {  # the window the evaluator gives a day's notices in America/Chicago (07:00-09:00)
    "send_after": "2026-09-25T12:00:00.000000Z",
    "send_before": "2026-09-25T14:00:00.000000Z",
}
OPEN = "2026-09-25T12:10:00Z"  # the dispatcher's run at 07:10 local


def _notice(district: str, i: int) -> Any:
    """Student ``s{i}``'s IPR warning, waiting for the morning window; siblings ``2k`` and
    ``2k + 1`` share their guardians (a household)."""
    from onpace_core.store.models import Contact, OutboxModel

    enrollment = f"{district}#c#s{i}"  # bench.district's enrollments: the re-check reads them
    household = i // 2
    return OutboxModel(
        notice_id=f"{enrollment}#cps.pacing.ipr_warning_2w#ipr-2026-10-09",
        district_id=district,
        program_id="p",
        enrollment_key=enrollment,
        student_id=f"s{i}",
        class_id="c",
        class_title="Algebra I",
        student_name=f"Student {i}",
        rule_id="cps.pacing.ipr_warning_2w",
        episode="ipr-2026-10-09",
        kind="notice",
        policy_version="bench-1",
        decided_on=DAY,
        due_on=DAY,
        deadlines={"ipr": "2026-10-09", "drop": "2026-10-10"},
        facts={"percent_complete": 0.1, "required_percent": 0.15, "ipr_date": "2026-10-09"},
        recipients=[
            Contact(
                role="student", address=f"s{i}@students.school.example", name=f"Student {i}", language="en"
            ),
            Contact(role="guardian", address=f"g{household}a@family.example", name="Guardian", language="es"),
            Contact(role="guardian", address=f"g{household}b@family.example", name="Other guardian"),
        ],
        reply_to=Contact(role="counselor", address="counselor@school.example", name="Dana Ruiz"),
        program_name="CPS Online",
        district_name="Columbia Public Schools",
        status="scheduled",
        send_key=f"{district}#{DAY}",
        created_at="2026-09-25T05:05:00.000000Z",
        **WINDOW,
    )


def _wait(district: str, notices: int) -> None:
    """Put ``notices`` notices in the outbox as the evaluator leaves them: waiting for the window."""
    from onpace_core.store.models import OutboxModel

    with OutboxModel.batch_write() as batch:
        for i in range(notices):
            batch.save(_notice(district, i))


def _letters(stack: Any, district: str, notices: int) -> list[dict[str, Any]]:
    """Dispatch the district's waiting notices; returns their letters' INSERT records."""
    from onpace_local.streams import StreamLog

    result = stack.invoke("DispatchFunction", {"district_id": district, "day": DAY, "scheduled_time": OPEN})
    assert sum(d["notices"] for d in result["days"]) == notices, result
    prefix = f"letter#{district}#"
    return [
        r
        for r in StreamLog.of(stack, "OutboxTable").records()
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["notice_id"]["S"].startswith(prefix)
    ]


def run_notify(notices: int) -> None:
    from onpace_core.delivery import sent_mail
    from onpace_core.store.models import OutboxModel
    from onpace_local.request_count import counting_requests
    from onpace_local.stack import LocalStack

    from bench.district import setup_district
    from bench.run import ROOT

    print(
        f"notify: {notices:,} notices x 3 recipients (a student in English, two guardians shared by "
        "two siblings, one reading Spanish; deadline.ics), dispatched in the morning window into "
        "letters, moto server"
    )
    with (
        LocalStack.start(
            ROOT / "template.yaml", root=ROOT, parameter_overrides={"LogLevel": "WARNING"}
        ) as stack,
        stack.environment(POWERTOOLS_METRICS_DISABLED="true"),
    ):
        import dispatch_handler  # noqa: F401  (bind the models before counting starts)
        import notify_handler

        # A first household warms both handlers (templates, catalogues, clients), as warm Lambdas are.
        warm, _ = setup_district(stack, 2, prefix="warm")
        _wait(warm, 2)
        for record in _letters(stack, warm, 2):
            assert stack.invoke("NotifyFunction", {"Records": [record]}) == {"batchItemFailures": []}
        district, _ = setup_district(stack, notices)
        _wait(district, notices)
        before = len(stack.sent_emails())

        ses_calls = 0

        def count_ses(**_: Any) -> None:
            nonlocal ses_calls
            ses_calls += 1

        kept = 0

        def count_kept(**_: Any) -> None:
            nonlocal kept
            kept += 1

        mail_s3 = sent_mail._s3_client(notify_handler.settings.aws_region)
        notify_handler.ses.meta.events.register("before-call.sesv2", count_ses, unique_id="bench-ses")
        mail_s3.meta.events.register("before-call.s3.PutObject", count_kept, unique_id="bench-s3")
        with counting_requests() as dispatching:
            records = _letters(stack, district, notices)
        started = time.perf_counter()
        with counting_requests() as counts:
            for i in range(0, len(records), BATCH):
                answer = stack.invoke("NotifyFunction", {"Records": records[i : i + BATCH]})
                assert answer == {"batchItemFailures": []}, answer
        seconds = time.perf_counter() - started
        notify_handler.ses.meta.events.unregister("before-call.sesv2", unique_id="bench-ses")
        mail_s3.meta.events.unregister("before-call.s3.PutObject", unique_id="bench-s3")
        emails = len(stack.sent_emails()) - before
        letters = [OutboxModel.get(r["dynamodb"]["Keys"]["notice_id"]["S"]) for r in records]
        statuses = Counter(letter.status for letter in letters)
        # One email per student, one per guardian address (a household digest for two siblings).
        assert emails == len(records) == ses_calls == notices + 2 * ((notices + 1) // 2), (emails, statuses)
        digests = sum(1 for letter in letters if len(letter.members or []) > 1)

        # The floor: the same number of SendEmail calls, one ready-made raw message each.
        raw = stack.sent_emails()[-1]["raw_data"].encode()
        sender = notify_handler.settings.sender_address
        started = time.perf_counter()
        for i in range(emails):
            notify_handler.ses.send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": [f"floor{i}@family.example"]},
                Content={"Raw": {"Data": raw}},
            )
        floor_seconds = time.perf_counter() - started

    rate, floor_rate = emails / seconds, emails / floor_seconds
    requests = counts.dynamodb() + dispatching.dynamodb()
    print(f"  letters: {emails:,} emails for {notices:,} notices, {digests:,} of them household digests")
    print(f"  notify (real handler)   {emails:>6,} emails  {rate:>8,.1f} emails/s")
    print(f"  bare SES send_email     {emails:>6,} emails  {floor_rate:>8,.1f} emails/s")
    print(f"  ratio notify / bare send_email, same run: speed {rate / floor_rate:.2f}")
    print(
        f"  DynamoDB requests (dispatch + notify): {requests:,} for {emails:,} emails = "
        f"{requests / emails:.2f} per email ({requests / notices:.1f} per notice)"
    )
    print(f"  dispatch by operation: {dict(sorted(dispatching.items()))}")
    print(f"  notify by operation: {dict(sorted(counts.items()))}")
    print(f"  S3 PutObject (the email as sent, SentMailBucket): {kept / emails:.2f} per email")
