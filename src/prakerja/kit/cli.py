"""Helpers every command line uses (``prakerja`` and the simulators'): the one-line user error, the free-port
check and one transaction whose refusal is printed as its stable code. Here rather than in :mod:`prakerja.cli`,
so that the simulators' commands need not import the command line that mounts them (no import cycle)."""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import typer
from rich.console import Console

from prakerja.kit.errors import DomainError

T = TypeVar("T")
S = TypeVar("S")


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


def in_transaction(transaction: Callable[[], AbstractContextManager[S]], action: Callable[[S], T]) -> T:
    """``action`` in one transaction (``transaction`` is the caller's unit of work, e.g. ``db.unit_of_work``); a
    refusal is printed on one line as its stable code and English message, its details below it, exit code 2."""
    try:
        with transaction() as session:
            return action(session)
    except DomainError as error:
        err = Console(stderr=True)
        err.print(f"[red]error:[/red] {error.code}: {error.message_en}", highlight=False, soft_wrap=True)
        for key, value in error.details.items():
            err.print(f"  {key}: {json.dumps(value, default=str)[:2000]}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
