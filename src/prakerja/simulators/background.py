"""A simulator served next to another server: its own uvicorn server in a thread of this process.

``prakerja demo`` runs the simulators it relies on this way, so one SIGTERM or Ctrl+C stops them with it: once its
web server and in-process worker have stopped (the jobs in progress may still be calling a simulator), it calls
:meth:`Background.join`. Only the main thread takes signals; this server never installs handlers of its own."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def loopback_address(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of an ``http://`` URL on this machine's loopback, or None for any other address (an outside
    system the demo must not stand in for)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        return None
    try:
        port = parts.port or 80
    except ValueError:
        return None
    return ("127.0.0.1" if parts.hostname == "localhost" else parts.hostname), port


class Background:
    """``app`` on ``host:port`` in a daemon thread. Its connections get ``grace_seconds`` to finish on stop."""

    def __init__(self, name: str, app: ASGIApp, *, host: str, port: int, grace_seconds: int = 1) -> None:
        self.name, self.host, self.port = name, host, port
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # the process's logging stays as the command configured it
            log_level=None,
            access_log=False,
            timeout_graceful_shutdown=grace_seconds,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"sim-{name}", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        """Serve, returning once the port accepts connections; RuntimeError if it does not within ``timeout``."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.request_stop()
                raise RuntimeError(f"the {self.name} simulator did not start on {self.host}:{self.port}")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def request_stop(self) -> None:
        """Stop accepting connections and finish (returns at once; :meth:`join` waits)."""
        self._server.should_exit = True

    def join(self, timeout: float = 5.0) -> None:
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
