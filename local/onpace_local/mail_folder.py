"""The demo's mail folder: every message moto's SES took, written where a person can open it.

Each message becomes ``NNN-{recipient}.eml`` (the raw MIME, as SES got it: open it in any mail
client) and ``NNN-{recipient}.html`` (its HTML part, for a browser); ``index.html`` lists them
with recipient, subject, language and attachments. The folder is rewritten on each run.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

_UNSAFE = re.compile(r"[^a-z0-9.@_-]+")


@dataclass
class MailFolder:
    """What :func:`write_mail_folder` wrote."""

    directory: Path
    messages: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    calendars: int = 0  # messages with a text/calendar part (deadline.ics, an invitation)

    @property
    def index(self) -> Path:
        return self.directory / "index.html"


def _parse(raw: str) -> EmailMessage:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _recipient(message: dict[str, Any]) -> str:
    addresses = [a for _, a in getaddresses(message["destinations"]) if a]
    return addresses[0] if addresses else "unknown"


def write_mail_folder(messages: list[dict[str, Any]], directory: Path) -> MailFolder:
    """Write ``messages`` (``LocalStack.sent_emails()``) into ``directory``, replacing it."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    folder = MailFolder(directory)
    rows: list[str] = []
    for number, message in enumerate(messages, start=1):
        parsed = _parse(message["raw_data"])
        to = _recipient(message)
        stem = f"{number:03d}-{_UNSAFE.sub('-', to.lower())[:60]}"
        (directory / f"{stem}.eml").write_text(message["raw_data"], encoding="utf-8", newline="")
        body = parsed.get_body(preferencelist=("html",))
        language = "?"
        if body is not None:
            content = body.get_content()
            (directory / f"{stem}.html").write_text(content, encoding="utf-8")
            found = re.search(r'<html[^>]*\blang="([^"]+)"', content)
            language = found.group(1) if found else "?"
        attachments = [p.get_filename() or p.get_content_type() for p in parsed.iter_attachments()]
        calendar = any(p.get_content_type() == "text/calendar" for p in parsed.walk())
        folder.messages += 1
        folder.languages[language] += 1
        folder.calendars += calendar
        rows.append(
            "<tr>"
            f"<td>{number}</td><td>{html.escape(to)}</td>"
            f'<td><a href="{stem}.html">{html.escape(str(parsed["Subject"]).strip())}</a></td>'
            f"<td>{html.escape(language)}</td><td>{html.escape(', '.join(attachments)) or '-'}</td>"
            f'<td><a href="{stem}.eml">.eml</a></td>'
            "</tr>"
        )
    folder.index.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>OnPace demo: emails sent</title>"
        "<style>body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>Emails the demo sent ({folder.messages})</h1>"
        "<table><thead><tr><th>#</th><th>to</th><th>subject</th><th>language</th>"
        "<th>attachments</th><th>raw</th></tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></body></html>\n",
        encoding="utf-8",
    )
    return folder
