"""``onpace demo``: a district's term replayed through the real handlers on moto server.

Day by day on a simulated clock: the scheduler fires the hourly evaluation planner through the
day (its shards drain into the evaluate worker through the queue; the notices wait for the
morning window), then the hourly dispatcher through the morning (it puts each household's and
each instructor's notices of the day into one letter), the outbox stream feeds the letters to
the notify function (emails go through SES on moto), then the day's LMS
activity arrives over HTTP through the local API gateway in three formats, as the district's
schools' LMSs would send it (``demo_feeds``): xAPI statements to the LRS endpoint, Caliper
envelopes and signed plain JSON webhooks.

Every file (programs, roster, events) is read and checked before moto server starts, so a
mistake in one is reported at once, by file and line (``InputFileError``).
"""

from __future__ import annotations

import errno
import json
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from onpace_core.delivery.evidence import outcomes, overall
from onpace_core.delivery.letters import FAMILY_DIGEST, INSTRUCTOR_DIGEST, LETTER, LETTERED
from onpace_core.settings import Settings
from onpace_core.store.models import OutboxModel, RawEventModel, SuppressionModel

from onpace_local.demo_feeds import FEEDS, FORMATS, FeedTally, LmsDirectory, send_day
from onpace_local.district import LoadedDistrict, read_district, store_district
from onpace_local.evaluation import checkpoint_audit, dispatch_morning, run_day
from onpace_local.gateway import GatewayHandle, bind_gateway, serve_gateway
from onpace_local.identity_provider import LocalUser
from onpace_local.mail_folder import MailFolder, write_mail_folder
from onpace_local.mailbox_simulator import MailboxSimulator
from onpace_local.replay import read_event_file
from onpace_local.sns import SnsPump
from onpace_local.stack import LocalStack
from onpace_local.streams import StreamPump
from onpace_local.webhook_client import new_secret, post_webhook

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


@dataclass(frozen=True)
class DemoOptions:
    programs_dir: Path = DEMO_DIR / "programs"
    roster_dir: Path = DEMO_DIR / "roster"
    events_file: Path = DEMO_DIR / "events.jsonl"
    first_day: date = date(2026, 8, 24)
    last_day: date = date(2026, 10, 16)
    serve: bool = True
    port: int = 0
    verbose: bool = False
    template: Path = DEMO_DIR.parent / "template.yaml"
    # School (org sourcedId) → the format its LMS sends (demo_feeds.FEEDS); others send plain.
    feeds: dict[str, str] = field(default_factory=lambda: dict(FEEDS))
    # Where every email the demo sent is written (.eml, .html, index.html); rewritten each run.
    mail_dir: Path = DEMO_DIR.parent / ".onpace" / "demo-mail"


@dataclass
class RuleTally:
    notices: int = 0
    actions: int = 0
    skipped: int = 0
    emails: int = 0


@dataclass
class LetterTally:
    """The emails sent as letters: one per address and morning, a digest when it carries more."""

    sent: int = 0
    household_digests: int = 0
    instructor_digests: int = 0

    def line(self) -> str:
        return (
            f"letters sent: {self.sent} (household digests {self.household_digests}, "
            f"instructor digests {self.instructor_digests}, the rest one notice each)"
        )


@dataclass(frozen=True)
class DecisionLine:
    on: str
    rule_id: str
    kind: str
    student: str
    class_title: str
    deadlines: str
    status: str
    emails: int


@dataclass
class DemoReport:
    district_id: str
    days: int = 0
    seconds: float = 0.0
    webhooks: Counter[str] = field(default_factory=Counter)
    rules: dict[str, RuleTally] = field(default_factory=lambda: defaultdict(RuleTally))
    sent: FeedTally = field(default_factory=FeedTally)
    # From the Events table after the term: events stored per (format, status), and why each
    # unmatched one was kept.
    stored: Counter[tuple[str, str]] = field(default_factory=Counter)
    unmatched: list[str] = field(default_factory=list)
    decisions: list[DecisionLine] = field(default_factory=list)
    letters: LetterTally = field(default_factory=LetterTally)
    # SES's events for mail to its simulator addresses (the demo roster has one that bounces),
    # and what they led to: addresses suppressed, notices escalated to the next contact.
    ses_events: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0
    escalations: int = 0
    mail: MailFolder | None = None
    console_url: str | None = None

    def render(self) -> str:
        lines = [
            f"OnPace demo: district {self.district_id}, {self.days} days replayed in {self.seconds:.1f} s",
            "",
            "Decisions (evaluation day, rule id, kind, student, class, deadlines stated, "
            "outbox status, emails):",
        ]
        width = max((len(d.deadlines) for d in self.decisions), default=0)
        for d in self.decisions:
            lines.append(
                f"  {d.on}  {d.rule_id:34} {d.kind:7} {d.student:22} {d.class_title:27} "
                f"{d.deadlines or '-':{width}} {d.status:8} {d.emails}"
            )
        lines += [
            "",
            f"{'rule id':40} {'notices':>7} {'actions':>7} {'skipped':>7} {'emails':>6}",
        ]
        for rule_id in sorted(self.rules):
            t = self.rules[rule_id]
            lines.append(f"{rule_id:40} {t.notices:>7} {t.actions:>7} {t.skipped:>7} {t.emails:>6}")
        totals = RuleTally(
            *(
                sum(getattr(t, f) for t in self.rules.values())
                for f in ("notices", "actions", "skipped", "emails")
            )
        )
        lines.append(
            f"{'total':40} {totals.notices:>7} {totals.actions:>7} {totals.skipped:>7} {totals.emails:>6}"
        )
        lines.append(self.letters.line())
        if self.ses_events:
            lines.append(
                "SES events (mailbox simulator): "
                + ", ".join(f"{kind} {n}" for kind, n in sorted(self.ses_events.items()))
                + f"; addresses suppressed {self.suppressed}, notices escalated to the next contact "
                f"{self.escalations}"
            )
        if self.mail is not None:
            languages = ", ".join(f"{lang} {n}" for lang, n in sorted(self.mail.languages.items()))
            lines.append(
                f"emails: {self.mail.messages} ({languages}; {self.mail.calendars} with a calendar entry) "
                f"written to {self.mail.directory}: open index.html in a browser, or any .eml in a mail "
                "client; the console shows each as sent"
            )
        stored = sum(self.stored.values())
        lines += [
            "",
            f"events sent: {self.sent.line()}",
            "events stored (Events table, by format and status): "
            + "; ".join(
                f"{fmt} "
                + ", ".join(f"{status} {n}" for (f, status), n in sorted(self.stored.items()) if f == fmt)
                for fmt in sorted({f for f, _ in self.stored})
            ),
            "deliveries: "
            + ", ".join(f"{k} {v}" for k, v in sorted((self.webhooks + Counter(stored=stored)).items()))
            + (f"; kept for review (not on the roster): {len(self.unmatched)}" if self.unmatched else "")
            + (f" ({', '.join(sorted(set(self.unmatched)))})" if self.unmatched else ""),
        ]
        return "\n".join(lines)


def _events_by_day(path: Path, zone: ZoneInfo) -> dict[date, list[dict[str, Any]]]:
    """The events file's lines (validated as replay validates them) by their local date, as sent."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for line, event in read_event_file(path):
        by_day[event.occurred_at.astimezone(zone).date()].append(json.loads(line))
    return by_day


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _tally(report: DemoReport, district_id: str) -> None:
    # A Scan is fine for a local report of one demo district; the functions never scan.
    items = sorted(
        OutboxModel.scan(OutboxModel.district_id == district_id), key=lambda i: (i.decided_on, i.notice_id)
    )
    for item in items:
        if item.escalated_from is not None:  # the same decision, sent on to the next contact
            report.escalations += 1
            continue
        if item.kind == LETTER:
            if item.status == "sent":
                report.letters.sent += 1
                report.letters.household_digests += item.rule_id == FAMILY_DIGEST
                report.letters.instructor_digests += item.rule_id == INSTRUCTOR_DIGEST
            continue
        tally = report.rules[item.rule_id]
        if item.kind == "action":
            tally.actions += 1
        elif item.kind == "skipped":
            tally.skipped += 1
        else:
            tally.notices += 1
        deliveries = item.deliveries.as_dict() if item.deliveries else {}
        # Emails are the ``r{i}`` entries; ``s{i}`` are text messages (delivery/sms.py).
        emails = sum(1 for k, d in deliveries.items() if k.startswith("r") and d.get("status") == "sent")
        tally.emails += emails
        deadlines = item.deadlines.as_dict() if item.deadlines else {}
        status = item.status
        if status == LETTERED and all(d.get("status") != LETTERED for d in deliveries.values()):
            status = overall(outcomes(item, deliveries))  # what its letters did
        report.decisions.append(
            DecisionLine(
                on=item.decided_on,
                rule_id=item.rule_id,
                kind=item.kind,
                student=f"{item.student_name} ({item.student_id})",
                class_title=item.class_title or item.class_id,
                deadlines=", ".join(f"{k} {v}" for k, v in sorted(deadlines.items(), key=lambda kv: kv[1])),
                status=status,
                emails=emails,
            )
        )


def _send_waiting_escalations(stack: LocalStack, district_id: str, pump: StreamPump) -> int:
    """Run the dispatcher at the window each waiting escalation was given (the morning after, on
    the real clock), as the hourly schedule would then; returns the outbox records notified."""
    # A Scan is fine for a local report of one demo district; the functions never scan.
    waiting = {
        (item.send_key, item.send_after)
        for item in OutboxModel.scan(
            (OutboxModel.district_id == district_id) & OutboxModel.escalated_from.exists()
        )
        if item.status == "scheduled" and item.send_key and item.send_after
    }
    for key, opens in sorted(waiting):
        day = str(key).rsplit("#", 1)[1]
        stack.invoke("DispatchFunction", {"district_id": district_id, "day": day, "scheduled_time": opens})
    return pump.pump() if waiting else 0


def _stored_events(district_id: str) -> tuple[Counter[tuple[str, str]], list[str]]:
    """The district's raw events per (format, status), and the reason of each unmatched one."""
    # A Scan is fine for a local report of one demo district; the functions never scan.
    counts: Counter[tuple[str, str]] = Counter()
    reasons: list[str] = []
    for item in RawEventModel.scan(
        (RawEventModel.district_id == district_id)
        & RawEventModel.source.exists()
        & RawEventModel.event_id.exists(),
        attributes_to_get=["source", "status", "reason"],
    ):
        counts[(item.source, item.status)] += 1
        if item.status == "unmatched":
            reasons.append(f"{item.source}: {item.reason}")
    return counts, reasons


def replay_term(
    stack: LocalStack,
    district: LoadedDistrict,
    gateway_url: str,
    events: dict[date, list[dict[str, Any]]],
    options: DemoOptions,
    out: TextIO,
    directory: LmsDirectory,
) -> DemoReport:
    """Replay the term day by day; returns what was decided, sent and received."""
    report = DemoReport(district_id=district.district_id, console_url=f"{gateway_url}/console")
    time_zone = district.programs[0].time_zone
    pump = StreamPump.for_function(stack, "NotifyFunction")
    simulator = MailboxSimulator.for_stack(stack)
    ses_events = SnsPump.for_function(stack, "SesEventsFunction")
    all_days = list(_days(options.first_day, options.last_day))
    started = time.monotonic()
    for index, day in enumerate(all_days, start=1):
        run = run_day(stack, day, time_zone)  # the hourly planner, then the shard workers
        decided = sum(r["count"] for p in run.programs() for r in p["recorded"])
        dispatched = dispatch_morning(stack, day, time_zone)  # the morning's letters
        letters = sum(d["letters"] for d in dispatched)
        records = pump.pump()
        if simulator.answer():
            # SES's bounce or complaint suppresses the address and escalates the notice; the
            # escalation goes out through the outbox stream like any notice, or, raised outside
            # the send window (the functions run on the real clock), in the next window's letter.
            ses_events.pump()
            records += pump.pump() + _send_waiting_escalations(stack, district.district_id, pump)
        todays = events.get(day, [])
        sent = send_day(
            gateway_url,
            district,
            directory,
            todays,
            msg_id=f"msg_demo_{day.isoformat()}",
            tally=report.sent,
            feeds=options.feeds,
        )
        print(
            f"[{index:>3}/{len(all_days)}] {day.isoformat()} {day.strftime('%a')}  "
            f"decisions {decided:>2}  letters {letters:>2}  outbox records to notify {records:>2}  "
            f"events {len(todays):>2}"
            + (" (" + ", ".join(f"{f} {sent[f]}" for f in FORMATS if sent[f]) + ")" if todays else ""),
            file=out,
            flush=True,
        )
    retry_day = next((d for d in all_days if events.get(d)), None)
    if retry_day is not None:
        # An LMS that retries a delivery it already made, in every format: nothing is stored
        # twice. Counted from the Events table, since an xAPI LRS answers a resent statement
        # exactly as a new one.
        before = sum(_stored_events(district.district_id)[0].values())
        send_day(
            gateway_url,
            district,
            directory,
            events[retry_day],
            msg_id=f"msg_demo_{retry_day.isoformat()}",
            tally=FeedTally(),
            feeds=options.feeds,
        )
        after = sum(_stored_events(district.district_id)[0].values())
        report.webhooks["duplicates"] += len(events[retry_day]) - (after - before)
        # A forged delivery: refused with 401 and audited.
        forged = post_webhook(
            gateway_url,
            district_id=district.district_id,
            secret="whsec_" + "A" * 44,
            events=events[retry_day],
        )
        report.webhooks[f"refused ({forged.status})"] += 1
    report.seconds = time.monotonic() - started
    report.days = len(all_days)
    report.stored, report.unmatched = _stored_events(district.district_id)
    _tally(report, district.district_id)
    report.ses_events = simulator.published
    report.suppressed = sum(1 for _ in SuppressionModel.query(district.district_id))
    return report


def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> DemoReport:
    """Read the district's files (InputFileError if one is wrong), then start moto and replay."""
    files = read_district(options.programs_dir, options.roster_dir)
    events = _events_by_day(options.events_file, ZoneInfo(files.programs[0].time_zone))
    listener = bind_console_port(options.port) if options.serve else None
    print("Starting moto server and creating the template's resources …", file=out, flush=True)
    # The functions log JSON at the template's LogLevel; the demo's own progress lines are
    # enough unless --verbose asks for the functions' logs as well.
    log_level = "INFO" if options.verbose else "WARNING"
    # Likewise the functions' metrics (EMF lines on stdout, as Lambda writes them for CloudWatch).
    quiet: dict[str, str] = {} if options.verbose else {"POWERTOOLS_METRICS_DISABLED": "true"}
    with (
        LocalStack.start(options.template, parameter_overrides={"LogLevel": log_level}) as stack,
        stack.environment(**quiet),
    ):
        district = store_district(stack, files)
        directory = LmsDirectory.from_roster(files.records, files.identities)
        feeds = ", ".join(f"{school} {fmt}" for school, fmt in sorted(options.feeds.items()))
        print(
            f"Loaded district {district.district_id}: {len(district.programs)} programs, "
            f"{district.enrollments} enrollments. Activity by school: {feeds or 'none'}, "
            f"the rest plain. Replaying {options.first_day} … {options.last_day}:",
            file=out,
            flush=True,
        )
        # Without --no-serve the console's port was bound before anything started (a busy port
        # is one line, before moto); with it, the replay's requests go through a gateway on an
        # ephemeral loopback port, like moto's, and the chosen --port is never bound.
        gateway = serve_gateway(stack, server=listener) if listener is not None else serve_gateway(stack)
        admins = demo_admins(gateway, district.district_id)
        try:
            report = replay_term(stack, district, gateway.url, events, options, out, directory)
            sandbox_refusal(stack, gateway.url)
            report_refusals(stack)
            # The hourly checkpoint (a signed, object-locked copy of each chain's head), so the
            # console's chain check has one to hold the log to.
            checkpoint_audit(stack, datetime.now(UTC))
            report.mail = write_mail_folder(stack.sent_emails(), options.mail_dir)
            print("", file=out)
            print(report.render(), file=out, flush=True)
            if options.serve:
                print(
                    serving_lines(report.console_url or gateway.console_url, admins, report.mail),
                    file=out,
                    flush=True,
                )
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    print("\nStopped.", file=out)
        finally:
            gateway.stop()
    return report


#: A second district id the demo's two-district admin also belongs to (its log: a refused webhook).
SANDBOX_DISTRICT = "riverbend-sandbox"


def sandbox_refusal(stack: LocalStack, gateway_url: str) -> None:
    """The sandbox district's own data: it has a webhook secret, and a forged delivery to it is
    refused with 401 and audited in its log (a district nobody set up audits nothing)."""
    stack.client("secretsmanager").create_secret(
        Name=f"{Settings.from_env().webhook_secret_prefix}{SANDBOX_DISTRICT}", SecretString=new_secret()
    )
    post_webhook(gateway_url, district_id=SANDBOX_DISTRICT, secret="whsec_" + "B" * 44, events=[])


def report_refusals(stack: LocalStack) -> None:
    """Audit the refused webhooks now: each is counted in its minute's window, which the sweep
    (every five minutes in AWS) audits once with its count; run a minute ahead of the clock so
    that the console shows the demo's refusals."""
    ahead = datetime.now(UTC) + timedelta(minutes=1, seconds=1)
    stack.invoke("RefusalSweepFunction", {"scheduled_time": ahead.strftime("%Y-%m-%dT%H:%M:%SZ")})


def demo_admins(gateway: GatewayHandle, district_id: str) -> list[LocalUser]:
    """The local identity provider's admins: one of the demo district, one of it and the sandbox."""
    provider = gateway.identity_provider
    assert provider is not None
    password = secrets.token_urlsafe(9)  # new each run; printed with the console URL
    return [
        provider.add_user(f"admin@{district_id}.example.org", [district_id], password=password),
        provider.add_user("multi@onpace.example.org", [district_id, SANDBOX_DISTRICT], password=password),
    ]


def serving_lines(console_url: str, admins: list[LocalUser], mail: MailFolder | None) -> str:
    """What the demo prints when it serves: where the console is, who signs in, where the mail is."""
    lines = [
        "",
        f"Console: {console_url}  (Ctrl-C to stop)",
        "Sign in at the local identity provider (it stands in for Cognito's hosted UI) as:",
    ]
    for user in admins:
        lines.append(f"  {user.email}  password {user.password}  (districts: {', '.join(user.districts)})")
    if mail is not None:
        lines.append(f"Emails sent: {mail.directory / 'index.html'}")
    return "\n".join(lines)


class PortBusyError(Exception):
    """The console's port is taken by another program."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is in use (another demo still running?); "
            "choose another with --port N (0: any free port)"
        )
        self.port = port


def bind_console_port(port: int) -> ThreadingHTTPServer:
    """The console's listening socket on 127.0.0.1:``port``; ``PortBusyError`` if it is taken."""
    try:
        return bind_gateway("127.0.0.1", port)
    except OSError as error:
        if error.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortBusyError(port) from None
        raise
