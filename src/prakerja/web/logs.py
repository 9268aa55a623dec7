"""Logs on stderr: one readable line per record in a terminal, one JSON object per line everywhere else.

``configure(level, "auto")`` picks text when stderr is a terminal and the environment is not production, and
JSON otherwise (files, pipes, container runtimes, log collectors, production); ``PRAKERJA_LOG_FORMAT`` forces
either. Personal data is never passed to a logger: records carry ids, codes and counts; request records carry
the route template (``/peserta/{id}``), never the URL.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}

LogFormat = Literal["auto", "text", "json"]


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(_extras(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """``09:30:01.250 INFO  prakerja.web.middleware  request  method=GET route=/ status=200 ms=3.1``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.") + f"{int(record.msecs):03d}"
        line = f"{when} {record.levelname:<7} {record.name}  {record.getMessage()}"
        extras = " ".join(f"{key}={_short(value)}" for key, value in _extras(record).items())
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _short(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value) if not value or " " in value else value
    return json.dumps(value, default=str)


def pick_format(log_format: LogFormat, *, stream: TextIO, production: bool) -> Literal["text", "json"]:
    if log_format != "auto":
        return log_format
    is_terminal = getattr(stream, "isatty", lambda: False)()
    return "text" if is_terminal and not production else "json"


ROUTINE_JOB_ACTIONS = frozenset(
    {"start_job", "job_success", "periodic_task_deferred", "periodic_task_already_deferred", "jobs_deferred"}
)
"""procrastinate's lines for a job that starts, succeeds or is scheduled: several a minute from the periodic jobs
alone, at INFO. They are kept at DEBUG; a job that fails, is retried or aborted keeps its own level."""


class RoutineJobsAtDebug(logging.Filter):
    """Shows procrastinate's routine lines (:data:`ROUTINE_JOB_ACTIONS`) only when the configured level is DEBUG,
    so a terminal (the demo's, with its logins) is not flooded by the periodic jobs."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.shown = level <= logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        if self.shown or not record.name.startswith("procrastinate") or record.levelno > logging.INFO:
            return True
        return getattr(record, "action", None) not in ROUTINE_JOB_ACTIONS


def configure(
    level: str = "INFO", log_format: LogFormat = "auto", *, production: bool = False, stream: TextIO | None = None
) -> None:
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    chosen = pick_format(log_format, stream=stream, production=production)
    handler.setFormatter(TextFormatter() if chosen == "text" else JsonFormatter())
    handler.addFilter(RoutineJobsAtDebug(logging.getLevelName(level.upper())))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
