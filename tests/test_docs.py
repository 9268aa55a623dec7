"""The documents a newcomer starts from stay true: every document is indexed and linked from the README, ADR
numbers have no holes, and CI installs and tests exactly as the README's quick start says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _documents() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if p != DOCS / "README.md")


def test_every_document_is_in_the_index_and_linked_from_the_readme() -> None:
    index = (DOCS / "README.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for document in _documents():
        relative = document.relative_to(DOCS).as_posix()
        assert f"]({relative})" in index, f"docs/README.md does not link {relative}"
        assert f"](docs/{relative})" in readme, f"README.md does not link docs/{relative}"
    assert "](docs/README.md)" in readme


def test_adr_numbers_have_no_holes_and_match_their_titles() -> None:
    numbers = []
    for adr in sorted((DOCS / "adr").glob("*.md")):
        number = adr.name[:4]
        assert re.fullmatch(r"\d{4}-[a-z0-9-]+\.md", adr.name), adr.name
        assert adr.read_text().startswith(f"# {number}: "), f"{adr.name}: the title does not carry its number"
        numbers.append(int(number))
    assert numbers == list(range(1, len(numbers) + 1))


def test_ci_installs_and_tests_as_the_readme_says() -> None:
    quick_start = (ROOT / "README.md").read_text().split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in quick_start.strip().splitlines()]
    install, test = commands[1].rsplit(" && ", 1)
    assert commands[0] == f"{install} && .venv/bin/prakerja demo"
    ci = (ROOT / ".ci" / "run").read_text()
    assert install.replace("pip install", "pip install -q") in ci
    assert re.search(rf"^{re.escape(test)}$", ci, re.MULTILINE)
