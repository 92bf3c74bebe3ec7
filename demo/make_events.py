"""Write demo/events.jsonl: the demo term's LMS activity in OnPace's plain JSON format.

Run ``python demo/make_events.py`` after changing the scenario; the demo and its test read the
generated file. Each student follows a story that exercises one rule (see docs/demo.md).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Chicago")
START, END = date(2026, 8, 24), date(2026, 10, 16)
ENGAGE = "discussion_reply"


def days(first: date, last: date, every: int = 1) -> list[date]:
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, every)]


def event(student: str, klass: str, day: date, kind: str, hour: int, percent: float | None = None) -> dict:
    at = datetime.combine(day, time(hour, 15), ZONE)
    body: dict = {
        "event_id": f"{student}-{klass}-{kind}-{day.isoformat()}-{hour}",
        "occurred_at": at.isoformat(),
        "student": student,
        "class": klass,
        "kind": kind,
    }
    if percent is not None:
        body["percent_complete"] = percent
    return body


def progress(student: str, klass: str, points: dict[date, float]) -> list[dict]:
    """Weekly progress reports interpolated between the given (date, percent) points."""
    out = []
    marks = sorted(points.items())
    for (d0, p0), (d1, p1) in pairwise(marks):
        for d in days(d0, d1 - timedelta(days=1), 3):
            share = (d - d0).days / (d1 - d0).days
            out.append(event(student, klass, d, "progress", 18, round(p0 + (p1 - p0) * share, 1)))
    last_day, last_percent = marks[-1]
    out.append(event(student, klass, last_day, "progress", 18, last_percent))
    return out


def scenario() -> list[dict]:
    ev: list[dict] = []
    # Riverbend Online (pacing, IPR #1 on Fri 2026-10-09).
    for student, klass in (("stu-ava", "cls-eng10"), ("stu-ben", "cls-eng10"), ("stu-cara", "cls-alg1")):
        ev += [event(student, klass, d, "login", 9) for d in days(START, END, 2)]
    ev += progress("stu-ava", "cls-eng10", {START: 0, date(2026, 9, 21): 22, END: 40})
    ev += progress("stu-ben", "cls-eng10", {START: 0, date(2026, 9, 24): 10, date(2026, 10, 1): 12, END: 12})
    ev += progress("stu-cara", "cls-alg1", {START: 0, date(2026, 9, 24): 10, date(2026, 10, 1): 16, END: 24})
    # Riverbend Dual Credit (engagement, 14/21 days).
    ev += [event("stu-dan", "cls-psy101", d, ENGAGE, 20) for d in days(START, date(2026, 9, 1), 2)]
    ev += [event("stu-dan", "cls-psy101", d, "login", 8) for d in days(date(2026, 9, 2), date(2026, 9, 18))]
    ev += [event("stu-dan", "cls-psy101", d, "submission", 21) for d in days(date(2026, 9, 19), END, 3)]
    ev += [event("stu-eve", "cls-psy101", d, ENGAGE, 19) for d in days(START, date(2026, 9, 3), 2)]
    ev += [event("stu-eve", "cls-psy101", d, "login", 8) for d in days(date(2026, 9, 4), END, 2)]
    ev += [event("stu-finn", "cls-psy101", d, "submission", 17) for d in days(START, END, 3)]
    # Riverbend Cooperative (progress ladder, withdraw period 2026-08-24..09-02).
    ev += [event("stu-gia", "cls-bio", d, "submission", 16) for d in days(START, END, 2)]
    ev += [event("stu-hal", "cls-bio", d, "submission", 16) for d in days(START, date(2026, 9, 8), 2)]
    ev += [event("stu-hal", "cls-bio", d, "login", 10) for d in days(date(2026, 9, 9), END, 4)]
    ev += [event("stu-ivy", "cls-bio", d, "submission", 15) for d in days(START, date(2026, 9, 8), 2)]
    ev += [event("stu-ivy", "cls-bio", d, "submission", 15) for d in days(date(2026, 9, 14), END, 2)]
    # A student the roster does not know yet: kept and reported, never dropped.
    ev.append(event("stu-zed", "cls-bio", date(2026, 9, 2), "submission", 14))
    ev.sort(key=lambda e: (e["occurred_at"], e["event_id"]))
    return ev


def main() -> None:
    target = Path(__file__).with_name("events.jsonl")
    lines = [json.dumps(e, separators=(",", ":")) for e in scenario()]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} events to {target}")


if __name__ == "__main__":
    main()
