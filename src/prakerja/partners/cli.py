"""Operator commands: ``prakerja partner create|key-issue|list-scope|key-revoke|suspend|reactivate|list``.

Every change is audited (actor ``system``: the command line has no signed-in officer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.errors import DomainError
from prakerja.partners import service as partners

console = Console()
err = Console(stderr=True)
app = typer.Typer(help="Partner organisations and their API credentials (/partner/v1).", no_args_is_help=True)

T = TypeVar("T")


def _run(work: Callable[..., T]) -> T:
    """One transaction; a refusal is one red line and exit code 2."""
    try:
        with unit_of_work() as session:
            return work(session)
    except DomainError as error:
        err.print(f"[red]error:[/red] {error.code}: {error.message_en} {error.details or ''}".strip(), highlight=False)
        raise typer.Exit(2) from None


def _show_key(issued: object) -> None:
    console.print(f"client_code  {issued.client_code}", highlight=False)  # type: ignore[attr-defined]
    console.print(f"key_id       {issued.key_id}", highlight=False)  # type: ignore[attr-defined]
    console.print(f"key          {issued.secret}", highlight=False)  # type: ignore[attr-defined]
    console.print("[yellow]The key is shown once: hand it to the partner now. It is stored only encrypted.[/yellow]")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The organisation's official name.")],
    role: Annotated[str, typer.Option(help="ministry, platform, institution or payment_partner.")],
) -> None:
    """Register a partner organisation (then issue it a key with ``key-issue``)."""
    partner = _run(lambda s: partners.create_partner(s, name=name, role=role, actor=Actor.system()))
    console.print(f"[green]partner created[/green] {partner.id} ({partner.role.value})", highlight=False)


@app.command("key-issue")
def key_issue(
    partner: Annotated[str, typer.Argument(help="The partner's id or exact name.")],
    client_code: Annotated[
        str | None, typer.Option(help="Rotate: add a key to this existing credential instead of a new one.")
    ] = None,
    label: Annotated[str, typer.Option(help="What the new credential is for, e.g. production.")] = "",
    list_type: Annotated[
        list[str] | None, typer.Option(help="A ministry's new credential: a list it may import (repeat the option).")
    ] = None,
    list_source: Annotated[str, typer.Option(help="The source its imports are recorded under, e.g. BKN.")] = "",
) -> None:
    """Issue a signing key: a new credential, or with --client-code one more key for rotation."""

    def work(session):  # type: ignore[no-untyped-def]
        found = partners.find_partner(session, partner)
        return partners.issue_key(
            session,
            partner_id=found.id,
            actor=Actor.system(),
            client_code=client_code,
            label=label,
            list_types=list_type or (),
            list_source=list_source,
        )

    _show_key(_run(work))


@app.command("list-scope")
def list_scope(
    client_code: Annotated[str, typer.Argument(help="The credential.")],
    list_type: Annotated[list[str] | None, typer.Option(help="A list it may import (repeat; none: nothing).")] = None,
    list_source: Annotated[str, typer.Option(help="The source its imports are recorded under, e.g. BKN.")] = "",
) -> None:
    """Set which exclusion lists and whitelists a credential may import, and under which source name."""
    credential = _run(
        lambda s: partners.set_list_scope(
            s, client_code=client_code, list_types=list_type or (), list_source=list_source, actor=Actor.system()
        )
    )
    console.print(
        f"[green]scope set[/green] {credential.client_code}: {', '.join(credential.list_types) or '-'}"
        f" from {credential.list_source or '-'}",
        highlight=False,
    )


@app.command("key-revoke")
def key_revoke(
    key_id: Annotated[str | None, typer.Argument(help="The key to revoke (see `prakerja partner list`).")] = None,
    client_code: Annotated[str | None, typer.Option(help="Revoke this whole credential, every key of it.")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Revoke one key, or a whole credential with --client-code. Requests signed with it are refused at once."""
    if (key_id is None) == (client_code is None):
        err.print("[red]error:[/red] give either a KEY_ID or --client-code")
        raise typer.Exit(2)
    if client_code is not None:
        _run(lambda s: partners.revoke_credential(s, client_code=client_code, actor=Actor.system(), reason=reason))
        console.print(f"[green]credential revoked[/green] {client_code}", highlight=False)
        return
    try:
        parsed = uuid.UUID(key_id or "")
    except ValueError:
        err.print("[red]error:[/red] KEY_ID is not a key id")
        raise typer.Exit(2) from None
    _run(lambda s: partners.revoke_key(s, key_id=parsed, actor=Actor.system(), reason=reason))
    console.print(f"[green]key revoked[/green] {parsed}", highlight=False)


def _set_status(partner: str, status: str, reason: str) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        found = partners.find_partner(session, partner)
        return partners.set_status(session, partner_id=found.id, status=status, actor=Actor.system(), reason=reason)

    found = _run(work)
    console.print(f"[green]{found.name}[/green]: {found.status.value}", highlight=False)


@app.command("suspend")
def suspend(
    partner: Annotated[str, typer.Argument(help="The partner's id or exact name.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Refuse every request of this partner until it is reactivated."""
    _set_status(partner, "suspended", reason)


@app.command("reactivate")
def reactivate(
    partner: Annotated[str, typer.Argument(help="The partner's id or exact name.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Honour the partner's unrevoked keys again."""
    _set_status(partner, "active", reason)


@app.command("list")
def list_partners() -> None:
    """Every partner with its credentials and keys (never the secrets)."""
    views = _run(partners.overview)
    console.print("partner\trole\tstatus\tclient_code\tkey_id\tissued\tkey_status", highlight=False)
    for view in views:
        fields = [view.name, view.role.value, view.status.value]
        rows = [
            [c.client_code, str(k.id), k.created_at, "revoked" if k.revoked else "active"]
            for c in view.credentials
            for k in c.keys
        ]
        for row in rows or [["-", "-", "-", "-"]]:
            console.print("\t".join(fields + row), highlight=False, soft_wrap=True)
