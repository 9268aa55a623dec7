"""Operator commands: ``prakerja partner create|key-issue|list-scope|key-revoke|suspend|reactivate|list`` and
``prakerja partner webhook add|rotate|disable|enable|list``.

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


webhooks = typer.Typer(help="Endpoints a partner receives webhooks on (contract section 4).", no_args_is_help=True)
app.add_typer(webhooks, name="webhook")


def _show_webhook_secret(issued: partners.IssuedWebhookSecret) -> None:
    console.print(f"endpoint_id  {issued.endpoint_id}", highlight=False)
    console.print(f"url          {issued.url}", highlight=False)
    console.print(f"secret       {issued.secret}", highlight=False)
    console.print(
        "[yellow]The secret is shown once: hand it to the partner now (it verifies our webhook-signature "
        "header). It is stored only encrypted.[/yellow]"
    )


@webhooks.command("add")
def webhook_add(
    partner: Annotated[str, typer.Argument(help="The partner's id or exact name.")],
    url: Annotated[str, typer.Argument(help="https:// URL (http only to loopback outside production).")],
) -> None:
    """Register an endpoint for the partner and show its new secret once."""

    def work(session):  # type: ignore[no-untyped-def]
        found = partners.find_partner(session, partner)
        return partners.add_webhook_endpoint(session, partner_id=found.id, url=url, actor=Actor.system())

    _show_webhook_secret(_run(work))


@webhooks.command("rotate")
def webhook_rotate(endpoint_id: Annotated[str, typer.Argument(help="The endpoint (see `webhook list`).")]) -> None:
    """Give the endpoint a new secret (shown once); later attempts are signed with it only."""
    _show_webhook_secret(
        _run(lambda s: partners.rotate_webhook_secret(s, endpoint_id=endpoint_id, actor=Actor.system()))
    )


def _set_webhook_status(endpoint_id: str, status: str, reason: str) -> None:
    found = _run(
        lambda s: partners.set_webhook_endpoint_status(
            s, endpoint_id=endpoint_id, status=status, actor=Actor.system(), reason=reason
        )
    )
    console.print(f"[green]{found.id}[/green]: {found.status.value}", highlight=False)


@webhooks.command("disable")
def webhook_disable(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint (see `webhook list`).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Send nothing more to this endpoint; its pending deliveries end as endpoint_disabled."""
    _set_webhook_status(endpoint_id, "disabled", reason)


@webhooks.command("enable")
def webhook_enable(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint (see `webhook list`).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Deliver new events to this endpoint again (after a 410 disabled it, say)."""
    _set_webhook_status(endpoint_id, "active", reason)


@webhooks.command("list")
def webhook_list(
    partner: Annotated[str | None, typer.Argument(help="Only this partner (id or exact name).")] = None,
) -> None:
    """Endpoints with their status (never the secrets)."""

    def work(session):  # type: ignore[no-untyped-def]
        names = {p.id: p.name for p in partners.overview(session)}
        partner_id = partners.find_partner(session, partner).id if partner else None
        return names, partners.webhook_endpoints(session, partner_id)

    names, endpoints = _run(work)
    console.print("partner\tendpoint_id\turl\tstatus\treason", highlight=False)
    for e in endpoints:
        row = [names.get(e.partner_id, str(e.partner_id)), str(e.id), e.url, e.status.value, e.status_reason or "-"]
        console.print("\t".join(row), highlight=False, soft_wrap=True)
