"""The notify benchmark: outbox notices through the real notify handler into moto server's SES.

N notices of the CPS IPR warning (two deadlines, so every email carries ``deadline.ics``), each to
a student (English), a guardian who reads Spanish and a guardian in English, are put in the outbox
and their stream records handed to the real handler in batches of 10 (the template's batch size):
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


def _notice(district: str, i: int) -> Any:
    from onpace_core.store.models import Contact, OutboxModel

    enrollment = f"{district}#c#s{i}"  # bench.district's enrollments: the re-check reads them
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
        decided_on="2026-09-25",
        due_on="2026-09-25",
        deadlines={"ipr": "2026-10-09", "drop": "2026-10-10"},
        facts={"percent_complete": 0.1, "required_percent": 0.15, "ipr_date": "2026-10-09"},
        recipients=[
            Contact(
                role="student", address=f"s{i}@students.school.example", name=f"Student {i}", language="en"
            ),
            Contact(role="guardian", address=f"g{i}a@family.example", name=f"Guardian {i}", language="es"),
            Contact(role="guardian", address=f"g{i}b@family.example", name=f"Other guardian {i}"),
        ],
        reply_to=Contact(role="counselor", address="counselor@school.example", name="Dana Ruiz"),
        program_name="CPS Online",
        district_name="Columbia Public Schools",
        status="pending",
        created_at="2026-09-25T05:05:00.000000Z",
    )


def run_notify(notices: int) -> None:
    from onpace_core.delivery import sent_mail
    from onpace_core.store.models import OutboxModel
    from onpace_local.request_count import counting_requests
    from onpace_local.stack import LocalStack
    from onpace_local.streams import StreamLog

    from bench.district import setup_district
    from bench.run import ROOT

    print(f"notify: {notices:,} notices x 3 recipients (en, es, en; each with deadline.ics), moto server")
    with (
        LocalStack.start(
            ROOT / "template.yaml", root=ROOT, parameter_overrides={"LogLevel": "WARNING"}
        ) as stack,
        stack.environment(POWERTOOLS_METRICS_DISABLED="true"),
    ):
        import notify_handler  # binds the models: before counting starts

        district, _ = setup_district(stack, notices + 1)
        items = [_notice(district, i) for i in range(notices + 1)]
        with OutboxModel.batch_write() as batch:
            for item in items:
                batch.save(item)
        by_id = {
            r["dynamodb"]["Keys"]["notice_id"]["S"]: r
            for r in StreamLog.of(stack, "OutboxTable").records()
            if r["eventName"] == "INSERT"
        }
        records = [by_id[item.notice_id] for item in items]
        # The first notice warms the handler (templates, catalogues, clients), as a warm Lambda is.
        assert stack.invoke("NotifyFunction", {"Records": records[:1]}) == {"batchItemFailures": []}
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
        started = time.perf_counter()
        with counting_requests() as counts:
            for i in range(1, len(records), BATCH):
                answer = stack.invoke("NotifyFunction", {"Records": records[i : i + BATCH]})
                assert answer == {"batchItemFailures": []}, answer
        seconds = time.perf_counter() - started
        notify_handler.ses.meta.events.unregister("before-call.sesv2", unique_id="bench-ses")
        mail_s3.meta.events.unregister("before-call.s3.PutObject", unique_id="bench-s3")
        emails = len(stack.sent_emails()) - before
        statuses = Counter(
            (o.status, str(o.last_error)) for o in (OutboxModel.get(item.notice_id) for item in items[1:])
        )
        assert emails == 3 * notices == ses_calls, (emails, ses_calls, statuses)

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
    requests = counts.dynamodb()
    print(f"  notify (real handler)   {emails:>6,} emails  {rate:>8,.1f} emails/s")
    print(f"  bare SES send_email     {emails:>6,} emails  {floor_rate:>8,.1f} emails/s")
    print(f"  ratio notify / bare send_email, same run: speed {rate / floor_rate:.2f}")
    print(
        f"  DynamoDB requests: {requests:,} for {emails:,} emails = {requests / emails:.2f} per email "
        f"({requests / notices:.1f} per notice of 3)"
    )
    print(f"  by operation: {dict(sorted(counts.items()))}")
    print(f"  S3 PutObject (the email as sent, SentMailBucket): {kept / emails:.2f} per email")
