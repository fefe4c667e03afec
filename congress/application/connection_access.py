"""Open connections whose sign-in no longer grants their actor are closed, with the reason.

Every command is re-checked where it runs (congress.application.service); this closes the socket too, so a page
left open after a sign-out, a re-issued access code, an ended or expired session, a deactivated
account or a roster change stops showing and receiving what its holder may no longer see. Each
worker checks its own connections, all of them with one query:

- at once when told (a backplane notice, congress.live.backplane.ACCESS_NOTICE, sent by whichever
  worker committed the change, so a socket on another worker closes too);
- when the soonest session among them expires;
- and every SWEEP_SECONDS, for what no server told (the `congress` command line writes straight to
  the database; a notice lost with Redis).

Close codes (docs/protocol.md): 4010 the session ended (sign in again), 4011 the person's roster
data changed (reconnect: the new connection is built from the current rows).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio

from congress.application.access import current_state, refusal_for
from congress.db.engine import is_outage
from congress.domain.access import ACCESS_CHANGED, SESSION_ENDED, access_error
from congress.live.backplane import ACCESS_NOTICE
from congress.live.hub import encode

if TYPE_CHECKING:
    from congress.application.service import Service
    from congress.live.connection import Connection

log = logging.getLogger(__name__)
CLOSE_SESSION_ENDED = 4010
CLOSE_ACCESS_CHANGED = 4011
CLOSE_CODES = {SESSION_ENDED: CLOSE_SESSION_ENDED, ACCESS_CHANGED: CLOSE_ACCESS_CHANGED}
SWEEP_SECONDS = 5.0
FLUSH_SECONDS = 2.0  # the reply and notice offered before the close get this long to go out
_tasks: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def end_connection(conn: Connection, refusal: str, *, announce: bool = True) -> None:
    """Tell the client why (an `error` without id, unless a command's error said it already), then close."""
    if conn.is_closing:
        return
    if announce:
        error = access_error(refusal)
        conn.offer(0, encode({"msg": "error", "id": None, **error.reply()}))
    await conn.flush(FLUSH_SECONDS)
    await conn.close(CLOSE_CODES[refusal], refusal)


def after_refusal(conn: Connection, code: str) -> None:
    """A command of this connection was refused because its access ended: close the socket as well."""
    if code in CLOSE_CODES:
        _spawn(end_connection(conn, code, announce=False))


class AccessWatch:
    """One per worker: re-checks the open connections of signed-in people (observers have no session)."""

    def __init__(self, service: Service, interval: float | None = None) -> None:
        self.service = service
        self.interval = SWEEP_SECONDS if interval is None else interval
        self._wake = asyncio.Event()
        service.hub.on_notice.append(self._on_notice)

    def _on_notice(self, kind: str) -> None:
        if kind == ACCESS_NOTICE:
            self._wake.set()

    async def run(self) -> None:
        wait = self.interval
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                wait = await self.check()
            except Exception as exc:  # the database away (a restart): one line, not a traceback a sweep
                if is_outage(exc):
                    log.warning("checking the open connections' access failed: the database is unreachable (%s)",
                                exc.__class__.__name__)
                else:
                    log.exception("checking the open connections' access failed")
                wait = self.interval

    async def check(self) -> float:
        """Close every connection whose sign-in no longer grants its actor; returns the seconds until
        the next check is due (the soonest expiry among the sessions still alive, at most the sweep)."""
        # A connection whose hello is not out yet is checked next time (its commands are re-checked anyway).
        conns = [c for group in self.service.hub.connections.values() for c in group
                 if c.actor.session_id is not None and c.is_started and not c.is_closing]
        if not conns:
            return self.interval
        ids = {c.actor.session_id for c in conns if c.actor.session_id is not None}

        def read() -> tuple[Any, datetime]:
            with self.service.db.read() as session:
                return current_state(session, ids), self.service.clock()

        state, now = await anyio.to_thread.run_sync(read)
        for conn in conns:
            refusal = refusal_for(conn.actor, state, now)
            if refusal is not None:
                _spawn(end_connection(conn, refusal))
        alive: list[datetime] = [s.expires_at for s, _grant in state.values() if s.revoked_at is None and s.expires_at > now]
        if not alive:
            return self.interval
        # A little after the expiry, so that the check finds it passed
        return max(0.05, min(self.interval, (min(alive) - now).total_seconds() + 0.05))
