"""``prakerja sim platform|institution|submit-course``: the commands exist, and refuse missing credentials and bad
listings before starting; a credentials file as ``prakerja partner key-issue`` prints it is read as is."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.cli import app
from prakerja.simulators.partner_client import load_credentials


def test_help() -> None:
    for command, words in (("platform", "Kartu Prakerja"), ("institution", "redeem"), ("submit-course", "curation")):
        result = CliRunner().invoke(app, ["sim", command, "--help"])
        assert result.exit_code == 0 and words in result.output
        for option in ("--api-url", "--client-code", "--key"):
            assert option in result.output


def test_refused_before_starting(tmp_path: Path) -> None:
    no_key = CliRunner().invoke(app, ["sim", "platform", "--port", "1"], env={"COLUMNS": "300"})
    assert no_key.exit_code == 2 and "--client-code" in no_key.output
    bad_listing = CliRunner().invoke(
        app, ["sim", "platform", "--client-code", "c", "--key", "k", "--list", "abc"], env={"COLUMNS": "300"}
    )
    assert bad_listing.exit_code == 2 and "COURSE_ID:PRICE" in bad_listing.output
    course = tmp_path / "course.json"
    course.write_text("{not json")
    not_json = CliRunner().invoke(
        app, ["sim", "submit-course", str(course), "--client-code", "c", "--key", "k"], env={"COLUMNS": "300"}
    )
    assert not_json.exit_code == 2 and "not JSON" in not_json.output


def test_key_issue_output_is_a_credentials_file(session: Session, tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["partner", "create", "Toko Belajar Berkas", "--role", "platform"]).exit_code == 0
    issued = CliRunner().invoke(app, ["partner", "key-issue", "Toko Belajar Berkas"])
    assert issued.exit_code == 0
    path = tmp_path / "toko.key"
    path.write_text(issued.output)
    found = load_credentials(path)
    assert found.client_code.startswith("pla_") and f"key          {found.key}" in issued.output


def test_a_listing_refused_at_start_is_one_line() -> None:
    from tests.conftest import free_port

    result = CliRunner().invoke(
        app,
        [
            "sim",
            "platform",
            "--client-code",
            "c",
            "--key",
            "k",
            "--api-url",
            "http://127.0.0.1:9",
            "--port",
            str(free_port()),
            "--list",
            "crs_1:100000",
        ],
    )
    assert result.exit_code == 1
    assert "cannot list crs_1: program_unreachable" in str(result.exception) + result.output
