"""The ``onpace`` command: run OnPace locally on moto server.

    onpace demo [--no-serve] [--port N] [--from DATE] [--to DATE]
    onpace invoke FUNCTION --event events/FILE.json [--no-demo-data]
    onpace replay --program FILE --roster DIR --events FILE [--events FILE ...] --from DATE --to DATE
                  [--skip FROM..TO ...] [--format json|table]
    onpace load program FILE [FILE ...] [--stack NAME] [--endpoint-url URL] [--region REGION]
    onpace load roster DIR --program FILE [--program FILE ...] [--allow-mass-ending] [--stack NAME]
                       [--endpoint-url URL]
    onpace load mappings FILE.csv --district ID [--stack NAME] [--endpoint-url URL]
    onpace audit verify --district ID [--all-checkpoints] [--stack NAME] [--endpoint-url URL]

``demo`` and ``invoke`` start a fresh moto server on 127.0.0.1, create the resources
``template.yaml`` declares and call the real handlers in this process (moto cannot run Lambda
code without Docker). ``replay`` needs no server: it evaluates in memory and sends nothing.
``load`` writes to a deployed stack's tables (or to moto server with ``--endpoint-url``);
``audit verify`` checks a district's audit chain and checkpoints there (exit 0 intact, 1 broken).

A mistake in a file given to any command (a program file, a roster export, an events or event
file) is an ``InputFileError``; ``main`` alone turns it into ``onpace: error: <file>:<line>:
<problem>`` on standard error and exit status 2, as argparse does for a wrong argument. Every
command reads and checks its files before it starts a server or writes anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from onpace_rules.input_files import InputFileError, read_text

from onpace_local.demo import DEMO_DIR, DemoOptions, run_demo


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onpace",
        description=(
            "OnPace on the embedded local stack (moto server on 127.0.0.1), and loading programs and "
            "rosters into a deployed one."
        ),
        epilog=(
            "Every command reads and checks the files it is given (program files, OneRoster CSV files, "
            "event files; UTF-8) before it starts a server or writes anything. A mistake in one ends the "
            "command with 'onpace: error: FILE:LINE: PROBLEM' on standard error and exit status 2."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="replay the demo district's term through the real handlers, then serve the console",
        description=(
            "Load the demo district (demo/programs, demo/roster), replay its term day by day "
            "(scheduled evaluation, emails through SES, signed activity webhooks), print a summary "
            "and serve the admin console until Ctrl-C. The files are checked before moto server starts."
        ),
    )
    defaults = DemoOptions()
    demo.add_argument(
        "--no-serve", action="store_true", help="exit after the summary instead of serving the console"
    )
    demo.add_argument(
        "--port",
        type=int,
        default=8321,
        help="console/API port on 127.0.0.1 (default 8321; 0 = any free port)",
    )
    demo.add_argument(
        "--from", dest="first_day", type=_date, default=defaults.first_day, help="first day to replay"
    )
    demo.add_argument(
        "--to", dest="last_day", type=_date, default=defaults.last_day, help="last day to replay"
    )
    demo.add_argument(
        "--programs", type=Path, default=defaults.programs_dir, help="directory of program YAML files"
    )
    demo.add_argument(
        "--roster", type=Path, default=defaults.roster_dir, help="OneRoster 1.1 or 1.2 CSV directory (UTF-8)"
    )
    demo.add_argument(
        "--events", type=Path, default=defaults.events_file, help="activity events, one JSON per line"
    )
    demo.add_argument(
        "--mail-dir",
        type=Path,
        default=defaults.mail_dir,
        help="where every email sent is written (.eml, .html, index.html; replaced each run)",
    )
    demo.add_argument("--verbose", action="store_true", help="also print the functions' JSON logs")

    openapi = commands.add_parser(
        "openapi",
        help="print the HTTP API's OpenAPI document, generated from the handlers (docs/openapi.json)",
        description=(
            "Generate the OpenAPI 3.1 document of every HttpApi route of template.yaml from the "
            "handlers' Powertools resolvers. The test suite fails when docs/openapi.json differs."
        ),
    )
    openapi.add_argument("--template", type=Path, default=Path("template.yaml"), help="the SAM template")
    openapi.add_argument("--output", type=Path, default=None, help="write here instead of standard output")

    invoke = commands.add_parser(
        "invoke",
        help="run one function's handler with an event file against a fresh local stack",
        description=(
            "Start the local stack, load the demo district (unless --no-demo-data), and call one "
            "function's handler with the event. Webhook events are signed again with the demo "
            "district's secret and the current time, as the LMS would sign them."
        ),
    )
    invoke.add_argument("function", help="logical id in template.yaml, e.g. IngestFunction")
    invoke.add_argument(
        "--event", type=Path, required=True, help="event JSON file, e.g. events/ingest_plain_single.json"
    )
    invoke.add_argument("--no-demo-data", action="store_true", help="do not load the demo district first")

    replay = commands.add_parser(
        "replay",
        help="practice run: evaluate a program over a roster and events in memory, send nothing",
        description=(
            "Evaluate every day FROM..TO exactly as the scheduled evaluator would (same engine, "
            "in-memory store) and print each notice, action and skipped warning as one JSON object "
            "per line, ordered by date. Nothing is sent. Events files are JSON Lines (or one JSON "
            "document, e.g. an array) in any format OnPace reads, detected per document and mixed "
            "freely: OnPace's plain JSON (activity and other inputs, docs/webhooks.md), xAPI "
            'statements, Caliper envelopes, Canvas live events (docs/ingest.md, "Replay"). The '
            "program applies to "
            "the roster's classes whose school org is in its org_ids, or to every class when it lists "
            "none; a warning on standard error says when that is every class of several schools, or none."
        ),
        epilog=(
            "example: onpace replay --program demo/programs/riverbend-online.yaml --roster demo/roster "
            "--events demo/events.jsonl --from 2026-08-24 --to 2026-10-16 --skip 2026-09-20..2026-09-27"
        ),
    )
    replay.add_argument("--program", type=Path, required=True, help="program policy file (YAML)")
    replay.add_argument(
        "--roster", type=Path, required=True, help="OneRoster 1.1 or 1.2 CSV directory (UTF-8)"
    )
    replay.add_argument(
        "--events",
        type=Path,
        action="append",
        default=[],
        help="events file: plain, xAPI, Caliper or Canvas documents, one per line (repeatable)",
    )
    replay.add_argument(
        "--mappings",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.csv",
        help=(
            "identity mappings an admin loads with `onpace load mappings` (kind,namespace,value,"
            "sourcedId), used beside the roster's own (repeatable)"
        ),
    )
    replay.add_argument("--from", dest="first_day", type=_date, required=True, help="first day to evaluate")
    replay.add_argument("--to", dest="last_day", type=_date, required=True, help="last day to evaluate")
    replay.add_argument(
        "--skip",
        type=_day_range,
        action="append",
        default=[],
        metavar="FROM..TO",
        help="leave the evaluator idle on these days, to rehearse an outage and its catch-up (repeatable)",
    )
    replay.add_argument(
        "--format", choices=("json", "table"), default="json", help="JSON lines (default) or a readable table"
    )
    _add_load(commands)
    _add_audit(commands, _deployment_parser("where to read"))
    return parser


def _url(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an endpoint URL (e.g. http://127.0.0.1:5000)")
    return text


def _deployment_parser(purpose: str) -> argparse.ArgumentParser:
    """The options that name a deployment (``purpose``: the group's title, e.g. "where to write")."""
    deployment = argparse.ArgumentParser(add_help=False)
    where = deployment.add_argument_group(f"deployment ({purpose})")
    where.add_argument(
        "--stack",
        metavar="NAME",
        help="CloudFormation stack whose outputs name the tables, e.g. onpace (default: the table names "
        "in PROGRAMS_TABLE, ENROLLMENTS_TABLE and AUDIT_TABLE, as the functions have them)",
    )
    where.add_argument(
        "--endpoint-url",
        type=_url,
        metavar="URL",
        help="AWS endpoint to use instead of AWS's own, e.g. moto server http://127.0.0.1:5000 "
        "(default: AWS_ENDPOINT_URL if set)",
    )
    where.add_argument(
        "--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)"
    )
    return deployment


def _add_load(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deployment = _deployment_parser("where to write")
    load = commands.add_parser(
        "load",
        help="load program files or a OneRoster roster into a deployed OnPace (or moto server)",
        description=(
            "Write program files or a OneRoster 1.1 or 1.2 CSV export into the tables of a deployed OnPace, "
            "the ones its functions use. Files are validated before anything is written; every load "
            "is recorded in the district's audit log."
        ),
    )
    what = load.add_subparsers(dest="load_command", required=True, metavar="WHAT")
    program = what.add_parser(
        "program",
        parents=[deployment],
        help="validate and store program files (policy, calendar); identical ones are left alone",
        description=(
            "Validate each program file (with its includes) and store it. A file identical to the stored "
            "program writes nothing. A new calendar change (calendar.changes: a snow day closed, a make-up "
            "day opened) or policy version brings the program's live enrollments forward to be evaluated "
            "again on the day it applies; that day's scheduled evaluation recomputes their deadlines and "
            "wake dates and writes one calendar.changed audit entry."
        ),
        epilog="example: onpace load program programs/cps-online.yaml --stack onpace",
    )
    program.add_argument("files", nargs="+", type=Path, metavar="PROGRAM.yaml", help="program policy file(s)")
    roster = what.add_parser(
        "roster",
        parents=[deployment],
        help="import a OneRoster 1.1 or 1.2 CSV export, bulk or delta (re-loading changes nothing twice)",
        description=(
            "Read a OneRoster 1.1 or 1.2 CSV export (manifest.csv, orgs, academicSessions, courses, classes, "
            "users, roles, enrollments, demographics; bulk or delta) and upsert the student enrollments of "
            "the given programs' schools: roster fields are replaced, activity facts and the evaluator's "
            "state are kept, new enrollments are due on their start date. tobedeleted rows end the "
            "enrollments they name; an enrollment a bulk enrollments.csv no longer lists is ended. Bad rows "
            "are left out and listed (file:line: column: problem), the others imported; exit status 3 says "
            "some rows were left out. Each program must be loaded already, from the same file."
        ),
        epilog=(
            "example: onpace load roster exports/2026-08-20 --program programs/cps-online.yaml --stack onpace"
        ),
    )
    roster.add_argument(
        "roster_dir", type=Path, metavar="ROSTER_DIR", help="OneRoster 1.1 or 1.2 CSV directory (UTF-8)"
    )
    roster.add_argument(
        "--program",
        dest="programs",
        type=Path,
        action="append",
        required=True,
        metavar="PROGRAM.yaml",
        help="program the classes belong to (by its org_ids); repeat for several programs of one district",
    )
    roster.add_argument(
        "--allow-mass-ending",
        action="store_true",
        help="let a bulk export end more than a quarter of the live enrollments (by default such an "
        "export, more likely cut short than right, ends none of them and says so)",
    )

    mappings = what.add_parser(
        "mappings",
        parents=[deployment],
        help="load identity mappings (LMS ids to roster sourcedIds) and re-apply quarantined events",
        description=(
            "Read a CSV with the header kind,namespace,value,sourcedId: kind is user or class; namespace "
            "is how the LMS names it (user: sourcedId, identifier, username, email, mbox_sha1sum, canvas, "
            "iri, userId:<type>, account:<homePage>; class: sourcedId, classCode, courseCode, title, "
            "canvas, iri); value is the LMS's id; sourcedId the roster user or class it means. An admin's "
            "row wins over the roster's for the same reference. Events kept unmatched that now resolve "
            "are folded."
        ),
        epilog="example: onpace load mappings mappings.csv --district d-riverbend --stack onpace",
    )
    mappings.add_argument("file", type=Path, metavar="FILE.csv", help="mappings CSV (UTF-8)")
    mappings.add_argument("--district", required=True, help="the district the mappings belong to")


def _add_audit(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], deployment: argparse.ArgumentParser
) -> None:
    audit = commands.add_parser(
        "audit",
        help="check a district's audit log (keyed chain and signed checkpoints)",
        description="Check the audit log of a deployed OnPace (or moto server).",
    )
    what = audit.add_subparsers(dest="audit_command", required=True, metavar="WHAT")
    verify = what.add_parser(
        "verify",
        parents=[deployment],
        help="verify a district's chain against its MACs and its newest checkpoint",
        description=(
            "Read the district's audit log oldest first and check that every entry follows the one "
            "before and carries a valid MAC under the district's chain key (KMS), then that the "
            "newest signed checkpoint verifies (KMS) and the log still holds the entry it recorded, "
            "with the same MAC. Prints the first bad entry and what is wrong with it. Exit status: "
            "0 intact, 1 broken, 2 could not check (no such deployment, no access)."
        ),
    )
    verify.add_argument("--district", required=True, help="the district whose log to check")
    verify.add_argument(
        "--all-checkpoints",
        action="store_true",
        help="check every checkpoint of the district, not only the newest (one S3 read and one KMS "
        "Verify each; finds the hour of a rewrite)",
    )


def _audit(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError
    from onpace_core.audit.keys import ChainKeyMissingError
    from onpace_core.audit.log import verify_chain
    from pynamodb.exceptions import PynamoDBException

    from onpace_local.load import DeploymentError, LoadInputError, bound, resolve_target

    try:
        target = resolve_target(
            stack=args.stack, endpoint_url=args.endpoint_url, region=args.region, env=os.environ
        )
        with bound(target):
            report = verify_chain(args.district, all_checkpoints=args.all_checkpoints)
    except (LoadInputError, DeploymentError, ChainKeyMissingError) as exc:
        print(f"onpace audit verify: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError, PynamoDBException) as exc:
        print(f"onpace audit verify: cannot check {args.district!r}: {exc}", file=sys.stderr)
        return 2
    checkpoint = (
        f"newest checkpoint {report.checkpoint} (entry {report.checkpoint_seq})"
        if report.checkpoint
        else "no checkpoint yet"
    )
    if report.intact:
        print(
            f"{report.district_id}: intact: {report.entries} entries; {checkpoint}; "
            f"{report.checkpoints_checked} checkpoint signature(s) verified"
        )
        return 0
    first = report.first_broken_seq if report.first_broken_seq is not None else "none (a checkpoint is bad)"
    print(f"{report.district_id}: BROKEN: first bad entry: {first}")
    print(f"  {report.problem}")
    print(f"  entries read: {report.entries}; {checkpoint}")
    return 1


def _day_range(text: str) -> object:
    from onpace_local.replay import DayRange

    try:
        return DayRange.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _replay(args: argparse.Namespace) -> int:
    from onpace_local.replay import as_json_lines, as_table, replay_files

    if args.last_day < args.first_day:
        print("onpace replay: --to must not be before --from", file=sys.stderr)
        return 2
    result = replay_files(
        args.program, args.roster, args.events, args.first_day, args.last_day, args.skip, args.mappings
    )
    lines = as_table(result) if args.format == "table" else as_json_lines(result)
    for line in lines:
        print(line)
    print(
        f"onpace replay: {result.days_evaluated} day(s) evaluated, {len(result.lines)} decision(s), "
        f"{result.evaluations} enrollment evaluation(s) for {result.enrollment_days} enrollment-days",
        file=sys.stderr,
    )
    for change in result.calendar_changes:
        print(
            f"onpace replay: {change['date']} calendar change {change['summary']}: "
            f"{change['enrollments_reevaluated']} enrollment(s) re-evaluated",
            file=sys.stderr,
        )
    if result.ignored or result.voided:
        print(
            f"onpace replay: {result.ignored} event(s) counting for nothing, and {result.voided} xAPI "
            "statement(s) voided (taken back when their void arrived)",
            file=sys.stderr,
        )
    if result.other_programs:
        print(
            f"onpace replay: {len(result.other_programs)} event(s) for classes of the roster's other "
            "schools (not in the program's org_ids) left out",
            file=sys.stderr,
        )
    if result.unmatched:
        print(
            f"onpace replay: {len(result.unmatched)} event(s) kept out of the evaluation (a student or "
            "class not on the roster, or a student not in that class): "
            + ", ".join(
                f"{e['event_id']} ({e['reason']})" if e.get("reason") else e["event_id"]
                for e in result.unmatched[:10]
            )
            + (" …" if len(result.unmatched) > 10 else ""),
            file=sys.stderr,
        )
    for warning in result.warnings:
        print(f"onpace replay: warning: {warning}", file=sys.stderr)
    return 0


def _load(args: argparse.Namespace) -> int:
    from onpace_local.load import (
        DeploymentError,
        LoadInputError,
        load_mappings,
        load_program_files,
        load_roster_dir,
        read_mappings,
        read_program_files,
        resolve_target,
    )

    def progress(line: str) -> None:
        print(line, flush=True)

    try:
        if args.load_command == "mappings":
            rows = read_mappings(args.file)  # checked before anything is reached or written
            target = resolve_target(
                stack=args.stack, endpoint_url=args.endpoint_url, region=args.region, env=os.environ
            )
            load_mappings(args.file, rows, args.district, target, datetime.now(UTC), progress)
            return 0
        files = read_program_files(args.files if args.load_command == "program" else args.programs)
        target = resolve_target(
            stack=args.stack, endpoint_url=args.endpoint_url, region=args.region, env=os.environ
        )
        now = datetime.now(UTC)
        if args.load_command == "program":
            load_program_files(files, target, now, progress)
        else:
            result = load_roster_dir(
                args.roster_dir, files, target, now, progress, allow_mass_ending=args.allow_mass_ending
            )
            if result.problems:
                return 3
    except LoadInputError as exc:  # a file's own mistakes are InputFileError, reported by main
        print(f"onpace load: {exc}", file=sys.stderr)
        return 2
    except DeploymentError as exc:
        print(f"onpace load: {exc}", file=sys.stderr)
        return 1
    return 0


def _invoke(args: argparse.Namespace) -> int:
    from onpace_local.district import load_district
    from onpace_local.lms.canvas_client import DEFAULT_ROOT_ACCOUNT
    from onpace_local.stack import LocalStack
    from onpace_local.webhook_client import resign_api_event

    event = _read_event(args.event)
    with LocalStack.start(DEMO_DIR.parent / "template.yaml") as stack, contextlib.ExitStack() as scope:
        if args.function not in {f.logical_id for f in stack.functions}:
            known = ", ".join(f.logical_id for f in stack.functions)
            print(f"onpace: no function {args.function!r} in template.yaml (known: {known})", file=sys.stderr)
            return 2
        if not args.no_demo_data:
            district = load_district(stack, DEMO_DIR / "programs", DEMO_DIR / "roster")
            if str(event.get("rawPath", "")).startswith("/webhooks/"):
                event = resign_api_event(event, district.webhook_secret)
            # Canvas's queue names no district: the sample events' root account is the demo's.
            accounts = json.dumps({DEFAULT_ROOT_ACCOUNT: district.district_id})
            scope.enter_context(stack.environment(CANVAS_ACCOUNTS=accounts))
        result = stack.invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _read_event(path: Path) -> dict[str, Any]:
    """A Lambda event from a JSON file, or an InputFileError naming the file and line."""
    text = read_text(path, what="event file")
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from exc
    if not isinstance(event, dict):
        raise InputFileError(path, "expected one JSON object (a Lambda event, see events/)", 1)
    return event


def _openapi(args: argparse.Namespace) -> int:
    from onpace_local.openapi import build_document, render

    text = render(build_document(args.template))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputFileError as exc:
        for line in str(exc).splitlines():
            print(f"onpace: error: {line}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        if args.last_day < args.first_day:
            print("onpace: --to must not be before --from", file=sys.stderr)
            return 2
        options = DemoOptions(
            programs_dir=args.programs,
            roster_dir=args.roster,
            events_file=args.events,
            first_day=args.first_day,
            last_day=args.last_day,
            serve=not args.no_serve,
            port=args.port,
            verbose=args.verbose,
            mail_dir=args.mail_dir,
        )
        from onpace_local.demo import PortBusyError

        try:
            run_demo(options)
        except PortBusyError as busy:
            print(f"onpace: {busy}", file=sys.stderr)
            return 4
        return 0
    if args.command == "openapi":
        return _openapi(args)
    if args.command == "invoke":
        return _invoke(args)
    if args.command == "replay":
        return _replay(args)
    if args.command == "load":
        return _load(args)
    if args.command == "audit":
        return _audit(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
