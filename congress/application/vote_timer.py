"""Votes set to close after a duration (`closes_after_seconds`) are closed here: any worker may run the
`close_vote` command for one that is due; the first wins, the others are refused as closed already."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio
import sqlalchemy as sa

from congress.application.service import Service
from congress.db.engine import log_loop_failure
from congress.db.models import Vote
from congress.domain.kinds import Role, VoteStatus
from congress.domain.permissions import Actor

log = logging.getLogger(__name__)
SYSTEM = Actor(role=Role.STAFF, name="系统（定时截止）")


async def close_due_votes(service: Service) -> None:
    """Votes set to close after a duration are closed here (any worker may; the first wins)."""
    while True:
        await asyncio.sleep(1.0)
        try:
            def due() -> list[tuple[int, int]]:
                with service.db.read() as session:
                    return list(session.execute(sa.select(Vote.congress_id, Vote.id).where(
                        Vote.status == VoteStatus.OPEN, Vote.closes_at <= service.clock())))

            for congress_id, vote_id in await anyio.to_thread.run_sync(due):
                with contextlib.suppress(Exception):
                    await service.run(SYSTEM, "close_vote", congress_id, {"vote_id": vote_id})
        except Exception as exc:
            log_loop_failure(log, exc, "closing due votes failed")
