"""A moto server on a free local port, in a thread of this process or in a process of its own.

moto keeps its state in module-level backends shared by every server (and every ``mock_aws``)
of one process, so ``start_moto`` resets that state by default: the server starts empty.

``start_moto_process`` runs the same server in a child process, for long measurements: in a
thread, moto's request handling shares the GIL with the client code that calls it, and each
side slows the other (the tests keep the thread: they read moto's state in process).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it for a port-0 bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class MotoHandle:
    """A running moto server: its URL, and how to stop it."""

    endpoint_url: str
    server: Any = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.server.stop()

    def reset(self) -> None:
        """Forget every resource the server holds."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def __enter__(self) -> MotoHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _wait_until_answering(endpoint_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            # Not data.json: it serializes all of moto's state, which is per process and still holds
            # the last stack's until the reset below (slower than this timeout after a long session).
            with urllib.request.urlopen(f"{endpoint_url}/moto-api/config", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            last_error = error
            time.sleep(0.05)
    raise TimeoutError(f"moto server at {endpoint_url} did not answer within {timeout}s: {last_error}")


def _serve_in_child(host: str, port: int, quiet: bool, parent: int) -> None:
    """The child's whole life: serve moto on ``host:port`` until the parent terminates it, or
    dies without doing so (killed: then this process is re-parented, and exits)."""
    from moto.server import ThreadedMotoServer

    from onpace_local.moto_transactions import install

    install()
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)  # the server's thread is not a daemon: leave without waiting for it


@dataclass
class _ChildServer:
    """A moto server process, stopped the way ``ThreadedMotoServer`` is (``stop``)."""

    process: Any

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def start_moto_process(host: str = "127.0.0.1", *, quiet: bool = True, timeout: float = 60.0) -> MotoHandle:
    """Start moto server in a child process (spawned, so it shares nothing with this one) on a
    free port, with the same transaction patch as ``start_moto``, and wait until it answers.

    The handle's ``stop`` terminates the process. A fresh process starts empty: no reset needed.
    """
    port = free_port(host)
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_serve_in_child, args=(host, port, quiet, os.getpid()), name="moto-server", daemon=True
    )
    process.start()
    handle = MotoHandle(endpoint_url=f"http://{host}:{port}", server=_ChildServer(process))
    try:
        _wait_until_answering(handle.endpoint_url, timeout)
    except BaseException:
        handle.stop()
        raise
    return handle


def start_moto(
    host: str = "127.0.0.1", *, reset: bool = True, quiet: bool = True, timeout: float = 15.0
) -> MotoHandle:
    """Start ``moto.server.ThreadedMotoServer`` on a free port and wait until it answers HTTP.

    ``quiet`` raises werkzeug's logger to WARNING so that each request is not printed.
    """
    from moto.server import ThreadedMotoServer

    from onpace_local.moto_transactions import install

    install()  # transactions back up their items, not whole tables (moto_transactions.py)
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    port = free_port(host)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    handle = MotoHandle(endpoint_url=f"http://{host}:{port}", server=server)
    try:
        _wait_until_answering(handle.endpoint_url, timeout)
        if reset:
            handle.reset()
    except BaseException:
        handle.stop()
        raise
    return handle
