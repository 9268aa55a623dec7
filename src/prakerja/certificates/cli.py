"""``prakerja certificate ...``: verify a credential offline, rotate the signing key, revoke."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.errors import DomainError

app = typer.Typer(help="Signed training certificates (W3C Verifiable Credentials).", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        err.print(f"[red]error:[/red] cannot read {what} {path}: {error.strerror}", highlight=False)
    except (ValueError, UnicodeDecodeError):
        err.print(f"[red]INVALID[/red] {what} {path} is not JSON", highlight=False)
        raise typer.Exit(1) from None
    raise typer.Exit(2)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The credential (.json) to check.")],
    did_document: Annotated[
        Path | None, typer.Option("--did-document", help="The issuer's DID document; default: this installation's.")
    ] = None,
    status_list: Annotated[
        Path | None,
        typer.Option("--status-list", help="The status list credential; default with --did-document: not checked."),
    ] = None,
) -> None:
    """Check a certificate offline: its eddsa-rdfc-2022 signature, that the key is in the issuer's DID document, and
    (when known) that it is not revoked. Exit code 0 valid, 1 not valid."""
    from prakerja.certificates import service  # lazy: JSON-LD and PDF libraries (about 130 modules)

    document = _read_json(file, "credential")
    listed = _read_json(status_list, "status list") if status_list is not None else None
    if did_document is not None:
        result = service.verify_offline(document, _read_json(did_document, "DID document"), listed)
    else:
        with unit_of_work() as session:
            if listed is not None:
                result = service.verify_offline(document, service.did_document(session), listed)
            else:
                result = service.verify_credential(session, document)
    if result.valid:
        note = "" if result.status_checked else " (revocation status not checked)"
        console.print(f"[green]VALID[/green] certificate {result.certificate_id}, key {result.key_id}{note}")
        return
    err.print(f"[red]INVALID[/red] ({result.reason}): {result.message}", highlight=False)
    raise typer.Exit(1)


@app.command("rotate-key")
def rotate_key(
    key_id: Annotated[
        str | None,
        typer.Option("--key-id", help="A key already in PRAKERJA_CERTIFICATE_SIGNING_KEYS (required in production)."),
    ] = None,
) -> None:
    """Sign new certificates with a new key; every older key stays in the DID document."""
    from prakerja.certificates import service  # lazy: JSON-LD and PDF libraries (about 130 modules)

    try:
        with unit_of_work() as session:
            row = service.rotate(session, actor=Actor(id=None, role="operator"), key_id=key_id)
            new_id = row.id
    except DomainError as error:
        err.print(f"[red]error:[/red] {error.message_en}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"[green]signing key[/green] {new_id} now signs new certificates")


@app.command("revoke")
def revoke(
    certificate_id: Annotated[str, typer.Argument(help="The certificate id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
) -> None:
    """Revoke a certificate: its bit in the status list is set; its page says it is revoked."""
    from prakerja.certificates import service  # lazy: JSON-LD and PDF libraries (about 130 modules)

    try:
        with unit_of_work() as session:
            service.revoke(session, certificate_id, reason=reason, actor=Actor(id=None, role="operator"))
    except DomainError as error:
        err.print(f"[red]error:[/red] {error.code}: {error.message_en}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"[green]revoked[/green] {certificate_id}")
