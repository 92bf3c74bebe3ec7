"""dynalite, a second implementation of the DynamoDB API, as a child process on a free local port.

The integration tests run their DynamoDB paths on moto server and again on dynalite, so that no
code of ours leans on something only moto does. dynalite is an npm package: ``make test`` installs
it into ``tools/dynalite`` (``scripts/ensure-dynalite.sh``), and this module starts it with the
machine's Node.js. dynalite implements items, queries, scans, batches and secondary indexes, but
no transactions, no streams, no time to live and no backups: ``DynaliteHandle.server`` says so,
and the local stack's provisioning leaves those parts of a table out there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from onpace_local.moto_server import free_port
from onpace_local.provision import DynamoDbServer

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where ``scripts/ensure-dynalite.sh`` installs the pinned dynalite (tools/dynalite/package.json).
DYNALITE_CLI = REPO_ROOT / "tools" / "dynalite" / "node_modules" / "dynalite" / "cli.js"


class DynaliteUnavailable(RuntimeError):
    """Node.js or the installed dynalite package is missing, or dynalite would not start."""


@dataclass
class DynaliteHandle:
    """A running dynalite: its URL, and how to stop it."""

    endpoint_url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def server(self) -> DynamoDbServer:
        """This server as the provisioning sees it: no transactions, streams, TTL or backups."""
        return DynamoDbServer(
            "dynalite",
            self.endpoint_url,
            transactions=False,
            streams=False,
            time_to_live=False,
            backups=False,
        )

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> DynaliteHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _answers(endpoint_url: str) -> bool:
    # dynalite answers any request, a plain GET included (with a 4xx DynamoDB error body).
    try:
        with urllib.request.urlopen(endpoint_url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start_dynalite(
    host: str = "127.0.0.1", *, timeout: float = 15.0, cli: Path = DYNALITE_CLI
) -> DynaliteHandle:
    """Start dynalite (in memory, tables ACTIVE at once) on a free port and wait until it answers."""
    node = shutil.which("node")
    if node is None:
        raise DynaliteUnavailable(
            "dynalite needs Node.js (>= 20) and none is on PATH: install it (Debian: apt-get install "
            "nodejs npm), then run `bash scripts/ensure-dynalite.sh`; "
            "or deselect the dynalite runs with -k 'not dynalite'"
        )
    if not cli.is_file():
        raise DynaliteUnavailable(
            f"dynalite is not installed ({cli} is missing): run `bash scripts/ensure-dynalite.sh` "
            "(`make test` does); or deselect the dynalite runs with -k 'not dynalite'"
        )
    last_error = ""
    for _attempt in range(3):  # the free port can be taken between the probe and node's bind
        port = free_port(host)
        # A file, not a pipe, for its errors: nobody reads them while dynalite runs, and a full
        # pipe would block it. The child keeps its own descriptor when this one is closed.
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                [
                    node,
                    str(cli),
                    "--host",
                    host,
                    "--port",
                    str(port),
                    # Tables (and index changes) are ACTIVE at once, as moto's are.
                    "--createTableMs",
                    "0",
                    "--deleteTableMs",
                    "0",
                    "--updateTableMs",
                    "0",
                ],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            handle = DynaliteHandle(endpoint_url=f"http://{host}:{port}", process=process)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(handle.endpoint_url):
                    return handle
                time.sleep(0.05)
            if process.poll() is None:
                handle.stop()
                raise DynaliteUnavailable(f"dynalite at {handle.endpoint_url} did not answer in {timeout}s")
            errors.seek(0)
            stderr = errors.read().decode(errors="replace").strip()
        last_error = stderr.splitlines()[-1] if stderr else f"exit code {process.returncode}"
    raise DynaliteUnavailable(f"dynalite would not start: {last_error}")
