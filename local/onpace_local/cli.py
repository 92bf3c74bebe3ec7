"""The ``onpace`` command: run OnPace locally on moto server.

    onpace demo [--no-serve] [--port N] [--from DATE] [--to DATE]
    onpace invoke FUNCTION --event events/FILE.json [--no-demo-data]

Both start a fresh moto server on 127.0.0.1, create the resources ``template.yaml`` declares and
call the real handlers in this process (moto cannot run Lambda code without Docker).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from onpace_local.demo import DEMO_DIR, DemoOptions, run_demo


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onpace",
        description="OnPace on the embedded local stack (moto server on 127.0.0.1).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="replay the demo district's term through the real handlers, then serve the console",
        description=(
            "Load the demo district (demo/programs, demo/roster), replay its term day by day "
            "(scheduled evaluation, emails through SES, signed activity webhooks), print a summary "
            "and serve the admin console until Ctrl-C."
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
    demo.add_argument("--roster", type=Path, default=defaults.roster_dir, help="OneRoster 1.1 CSV directory")
    demo.add_argument(
        "--events", type=Path, default=defaults.events_file, help="activity events, one JSON per line"
    )
    demo.add_argument("--verbose", action="store_true", help="also print the functions' JSON logs")

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
    return parser


def _invoke(args: argparse.Namespace) -> int:
    from onpace_local.district import load_district
    from onpace_local.stack import LocalStack
    from onpace_local.webhook_client import resign_api_event

    event = json.loads(args.event.read_text(encoding="utf-8"))
    with LocalStack.start(DEMO_DIR.parent / "template.yaml") as stack:
        if args.function not in {f.logical_id for f in stack.functions}:
            known = ", ".join(f.logical_id for f in stack.functions)
            print(f"onpace: no function {args.function!r} in template.yaml (known: {known})", file=sys.stderr)
            return 2
        if not args.no_demo_data:
            district = load_district(stack, DEMO_DIR / "programs", DEMO_DIR / "roster")
            if str(event.get("rawPath", "")).startswith("/webhooks/"):
                event = resign_api_event(event, district.webhook_secret)
        result = stack.invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        )
        run_demo(options)
        return 0
    if args.command == "invoke":
        return _invoke(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
