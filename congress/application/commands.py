"""The command table: every action a client can take over the websocket or the HTTP API.

One table serves both interfaces, the OpenAPI description and docs/protocol.md, so the same op has
the same name, arguments, permission and errors everywhere. It is assembled here, in the
application layer, from the `COMMANDS` each writer (congress.actions) and read module
(congress.reads) declares; those modules know nothing of the table.
"""

from __future__ import annotations

from types import ModuleType

from congress.domain.commands import Command
from congress.ops import metrics

COMMANDS: dict[str, Command] = {}


def register(*commands: Command) -> None:
    for command in commands:
        if command.op in COMMANDS:
            raise RuntimeError(f"op {command.op} registered twice")
        COMMANDS[command.op] = command


def _declaring_modules() -> tuple[ModuleType, ...]:
    from congress.actions import (
        account_admin,
        agenda,
        attendance,
        ballots,
        casework,
        departments,
        documents,
        embedding,
        notices,
        opinions,
        proposals,
        receipts,
        rooms,
        sealed_tally,
        setup,
        sign_in_waits,
        speakers,
        terms,
        trustees,
        votes,
    )
    from congress.reads import proposal_views, views

    return (account_admin, agenda, attendance, ballots, casework, departments, documents, embedding, notices,
            opinions, proposals, receipts, rooms, sealed_tally, setup, sign_in_waits, speakers, terms, trustees,
            votes, proposal_views, views)


def load_all() -> dict[str, Command]:
    """The whole table, assembled once from every module's declared COMMANDS."""
    if not COMMANDS:
        for module in _declaring_modules():
            register(*module.COMMANDS)
        metrics.know_ops(frozenset(COMMANDS))
    return COMMANDS
