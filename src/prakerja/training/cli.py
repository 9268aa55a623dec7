"""``prakerja training ...``: operator commands for the marketplace."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from prakerja.audit.service import Actor
from prakerja.db import unit_of_work
from prakerja.kit.cli import UserError
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.training import service

app = typer.Typer(
    help="The marketplace: sessions cancelled by the program, platform commissions.", no_args_is_help=True
)
console = Console()


@app.command("cancel-session")
def cancel_session(
    session_id: Annotated[str, typer.Argument(help="The course session's id.")],
    reason: Annotated[str, typer.Option(help="Why (e.g. a public holiday); recorded in the audit log.")],
) -> None:
    """Cancel a session for every participant: codes cancelled, the session's share refunded to each balance."""
    parsed = parse_id(session_id)
    if parsed is None or not reason.strip():
        raise UserError("a session id and a reason are required")
    try:
        with unit_of_work() as session:
            refunded = service.delivery.cancel_session(
                session, session_id=parsed, actor=Actor(id=None, role="pmo_admin"), reason=reason.strip()
            )
    except DomainError as error:
        raise UserError(error.message_en) from None
    console.print(f"session cancelled; purchases refunded: {refunded}")


@app.command("commission")
def commission(
    platform_id: Annotated[str, typer.Argument(help="The platform's partner id.")],
    basis_points: Annotated[int, typer.Argument(help="Commission in basis points of each captured purchase (0-5000).")],
) -> None:
    """Record a platform's agreement: its commission out of each captured purchase."""
    parsed = parse_id(platform_id)
    if parsed is None:
        raise UserError("not a partner id")
    try:
        with unit_of_work() as session:
            service.completions.set_commission(
                session, platform_id=parsed, bps=basis_points, actor=Actor(id=None, role="pmo_admin")
            )
    except DomainError as error:
        raise UserError(error.message_en) from None
    console.print(f"commission set: {basis_points} basis points")
