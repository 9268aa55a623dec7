"""Logs: readable lines in a terminal, JSON lines elsewhere and in production; a setting forces either."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from prakerja.web.logs import configure


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _emit(stream: io.StringIO) -> str:
    logging.getLogger("prakerja.test").info("request", extra={"route": "/peserta/{id}", "status": 200})
    return stream.getvalue()


def test_terminal_gets_readable_lines() -> None:
    stream = Terminal()
    configure("INFO", "auto", stream=stream)
    line = _emit(stream).strip()
    assert not line.startswith("{")
    assert "INFO" in line and "prakerja.test" in line and "request" in line
    assert "route=/peserta/{id}" in line and "status=200" in line


def test_pipe_gets_json_lines() -> None:
    stream = io.StringIO()
    configure("INFO", "auto", stream=stream)
    record = json.loads(_emit(stream))
    assert (record["level"], record["logger"], record["msg"]) == ("INFO", "prakerja.test", "request")
    assert (record["route"], record["status"]) == ("/peserta/{id}", 200)


def test_production_gets_json_even_in_a_terminal() -> None:
    stream = Terminal()
    configure("INFO", "auto", production=True, stream=stream)
    assert json.loads(_emit(stream))["msg"] == "request"


@pytest.mark.parametrize(("forced", "is_json"), [("json", True), ("text", False)])
def test_setting_forces_a_format(forced: str, is_json: bool) -> None:
    for stream in (Terminal(), io.StringIO()):
        configure("INFO", forced, stream=stream)  # type: ignore[arg-type]
        assert _emit(stream).startswith("{") is is_json


def test_text_keeps_tracebacks_and_quotes_values_with_spaces() -> None:
    stream = Terminal()
    configure("INFO", "text", stream=stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("prakerja.test").exception("failed", extra={"reason": "two words"})
    out = stream.getvalue()
    assert 'reason="two words"' in out and "Traceback" in out and "ValueError: boom" in out


def test_log_format_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from prakerja.config import Settings

    monkeypatch.setenv("PRAKERJA_LOG_FORMAT", "text")
    assert Settings().log_format == "text"
    monkeypatch.setenv("PRAKERJA_LOG_FORMAT", "xml")
    with pytest.raises(ValueError):
        Settings()


def _job_lines(stream: io.StringIO) -> list[str]:
    worker = logging.getLogger("procrastinate.worker")
    worker.info("Starting job jobs.retry_stalled[1]", extra={"action": "start_job"})
    worker.info("Job jobs.retry_stalled[1] ended with status: Success", extra={"action": "job_success"})
    periodic = logging.getLogger("procrastinate.periodic")
    periodic.info("Periodic job deferred", extra={"action": "periodic_task_deferred"})
    worker.info("Job jobs.retry_stalled[2] ended with status: Error, to retry", extra={"action": "job_error_retry"})
    worker.error("Job jobs.retry_stalled[3] ended with status: Error", extra={"action": "job_error"})
    return [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]


def test_routine_job_lines_are_debug_but_failures_are_shown() -> None:
    """The demo's terminal was flooded by the periodic jobs' start and success lines (nine a minute), and its
    banner of logins scrolled away; failed and retried jobs must still be seen."""
    stream = io.StringIO()
    configure("INFO", "json", stream=stream)
    assert _job_lines(stream) == [
        "Job jobs.retry_stalled[2] ended with status: Error, to retry",
        "Job jobs.retry_stalled[3] ended with status: Error",
    ]
    assert "request" in _emit(stream)  # the program's own INFO lines are untouched


def test_routine_job_lines_shown_at_debug() -> None:
    stream = io.StringIO()
    configure("DEBUG", "json", stream=stream)
    assert len(_job_lines(stream)) == 5
