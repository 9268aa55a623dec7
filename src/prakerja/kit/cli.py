"""Helpers every command line uses (``prakerja`` and the simulators'): the one-line user error and the free-port
check. Here rather than in :mod:`prakerja.cli`, so that the simulators' commands need not import the command line
that mounts them (no import cycle)."""

from __future__ import annotations

import errno
import socket


class UserError(Exception):
    """A mistake the operator can fix; printed as one line."""


def check_port_free(host: str, port: int, *, hint: str = "choose another with --port") -> None:
    """UserError when nothing can listen on ``host:port``; ``hint`` tells the operator what to change."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UserError(f"port {port} on {host} is already in use; {hint}") from None
            raise UserError(f"cannot listen on {host}:{port} ({error.strerror})") from None
