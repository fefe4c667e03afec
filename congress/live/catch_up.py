"""While Redis is down: each worker reads the other workers' events from the database.

Events travel between workers through Redis, but their record is the database. Without Redis a
worker's clients would hear only what this worker commits, and another worker's events only when a
gap shows behind one of its own (and never the last ones). So while the backplane is down, every
POLL_SECONDS the worker reads the head (Congress.last_seq) of each congress it has connections for
and fetches from the log what it has not delivered (the hub drops duplicates by seq). When Redis is
back and the subscription restored, one last read covers what was published before it returned,
and the polling stops. One log line when Redis goes away and one when it is back, not one a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import anyio
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.models import Congress
from congress.live.hub import Hub

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5

Heads = Callable[[list[int]], dict[int, int]]


def database_heads(db: Database) -> Heads:
    """Each congress's last seq handed out, read in one query."""
    def heads(congress_ids: list[int]) -> dict[int, int]:
        with db.read() as session:
            rows = session.execute(sa.select(Congress.id, Congress.last_seq).where(Congress.id.in_(congress_ids)))
            return {cid: seq for cid, seq in rows}
    return heads


class CatchUp:
    def __init__(self, heads: Heads) -> None:
        self._heads = heads
        self._hub: Hub | None = None
        self.down = False
        self._task: asyncio.Task[None] | None = None

    def attach(self, hub: Hub) -> None:
        self._hub = hub

    def went_down(self, why: Exception) -> None:
        if self.down:
            return
        self.down = True
        log.warning("redis backplane: Redis is unreachable (%s: %s); reading the other workers' events from "
                    "the database every %.1f s until it is back", why.__class__.__name__, why, POLL_SECONDS)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def came_back(self) -> None:
        if not self.down:
            return
        self.down = False
        log.warning("redis backplane: Redis is back; events travel through it again")

    async def _run(self) -> None:
        failing = False
        while True:
            last = not self.down  # Redis is back and subscribed: this read is the last one
            try:
                await self.poll_once()
                failing = False
            except Exception as exc:  # the database may be away too: keep trying, say so once
                if not failing:
                    log.warning("redis backplane: reading missed events from the database failed (%s); retrying",
                                exc.__class__.__name__)
                failing = True
            if last and not failing:
                return
            await asyncio.sleep(POLL_SECONDS)

    async def poll_once(self) -> int:
        """Fetch and deliver what the congresses followed here have committed elsewhere; how many events."""
        hub = self._hub
        if hub is None:
            return 0
        watched = hub.watched()
        if not watched:
            return 0
        heads = await anyio.to_thread.run_sync(self._heads, watched)
        return sum([await hub.catch_up(cid, head) for cid, head in heads.items()])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
