"""Letting observers in (云听会), for the websocket and the HTTP API alike: the watch token as a
link secret, what each server process knows of a congress's watch setting, and a throttle on
wrong tokens per address.

The rule itself is congress.domain.watching.may_watch. This module only feeds it: the token is
made by the server (24 URL-safe characters) and stored as an HMAC-SHA256 under the instance
secret (congress.application.auth.secret_key) in the `watch_token_hash` column, "hmac-sha256:<hex>". It used
to be a staff-chosen word hashed with argon2id (64 MiB, t=3), checked for every observer in the
shared thread pool: 200 wrong-token connections stalled delegates for 20 s (issue 18). An HMAC
costs microseconds, so the check runs on the event loop; an old argon2 hash is never checked (its
congress refuses observers with `watch_link_not_issued` until staff issue a new link).

What a process knows of a congress (mode, digest) is kept until a `watch.set` event tells every
worker to forget it (congress.live.state.LiveState), with a short life as a second guard, so a join storm of
thousands with the right link costs one HMAC each and no database read.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from congress.db.models import Congress, Setting
from congress.db.secrets import HMAC_PREFIX, watch_token_digest
from congress.domain.errors import DomainError
from congress.domain.watching import WatchMode, WatchRefusal, may_watch

WATCH_HEADER = "x-watch-token"  # or ?watch= on any anonymous read
KNOWN_SECONDS = 10.0  # a second guard only: watch.set forgets a congress's entry at once
MAX_PRESENTED_CHARS = 256  # longer is never a token of ours: refused without hashing


class NotAdmitted(DomainError):
    """An anonymous visitor refused: a DomainError for HTTP, with the websocket's close code and an
    ASCII close reason (a close frame carries at most 123 bytes)."""

    def __init__(self, code: str, message: str, close_code: int, reason: str) -> None:
        super().__init__(code, message)
        self.close_code, self.reason = close_code, reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (NotAdmitted, (self.code, self.message, self.close_code, self.reason))


_CLOSE = {
    WatchRefusal.WATCHING_OFF: (4403, "watching is switched off"),
    WatchRefusal.WATCH_TOKEN_REQUIRED: (4401, "watch token required"),
    WatchRefusal.WATCH_LINK_NOT_ISSUED: (4403, "watch link not issued: ask staff for a new one"),
}
CLOSE_THROTTLED = 4429


def refused(refusal: WatchRefusal) -> NotAdmitted:
    close_code, reason = _CLOSE[refusal]
    return NotAdmitted(refusal.code, refusal.message, close_code, reason)


@dataclass
class _Address:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    strikes: int = 0  # blocks so far: each lasts twice the one before
    last_failure: float = 0.0


class FailureThrottle:
    """Wrong watch tokens per client address, in this process (apart from sign-in's throttle, which
    is in the database: a guess here costs an HMAC, not an argon2 hash, and must not lock anyone
    out of signing in). After `limit` failures within `window` seconds the address is refused for
    `first_block` seconds, then twice as long at each new block, up to `longest_block`; a quiet
    `longest_block` forgives the strikes. A refused attempt is not hashed at all."""

    def __init__(self, limit: int = 20, window: float = 60.0, first_block: float = 60.0,
                 longest_block: float = 3600.0, clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = 100_000) -> None:
        self.limit, self.window = limit, window
        self.first_block, self.longest_block = first_block, longest_block
        self.clock, self.max_addresses = clock, max_addresses
        self._addresses: dict[str, _Address] = {}
        self._lock = threading.Lock()  # the thread-pool path and the event loop both count

    def blocked_for(self, address: str) -> float:
        """Seconds this address must still wait (0.0: it may try)."""
        with self._lock:
            entry = self._addresses.get(address)
            return max(0.0, entry.blocked_until - self.clock()) if entry else 0.0

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            entry = self._addresses.get(address)
            if entry is None:
                if len(self._addresses) >= self.max_addresses:
                    self._prune(now)
                entry = self._addresses[address] = _Address()
            if now - entry.last_failure > self.longest_block:
                entry.strikes = 0
            entry.last_failure = now
            entry.failures.append(now)
            while entry.failures and entry.failures[0] <= now - self.window:
                entry.failures.popleft()
            if len(entry.failures) >= self.limit:
                entry.blocked_until = now + min(self.longest_block, self.first_block * 2 ** entry.strikes)
                entry.strikes += 1
                entry.failures.clear()

    def _prune(self, now: float) -> None:
        """Forget addresses neither blocked nor recently failing (a spray from many addresses)."""
        for address, entry in list(self._addresses.items()):
            if entry.blocked_until <= now and now - entry.last_failure > self.window:
                del self._addresses[address]


@dataclass(frozen=True, slots=True)
class WatchSetting:
    """What this process knows of one congress's watch setting."""

    congress_id: int
    mode: WatchMode
    digest: str | None  # an HMAC this server can check, else None (none issued, or an old argon2 hash)
    key: str | None  # the instance secret, when a digest needs it
    until: float


@dataclass(frozen=True, slots=True)
class Ticket:
    """Taken before a congress row is read: may what the read finds be kept?"""

    congress_id: int
    generation: int
    followed: bool


class WatchGate:
    """One per Service (Service.watch_gate): the watch settings known in this process and the throttle.

    A setting is kept only for a congress whose events this process's hub follows: the hub drops
    the events of a congress it does not follow (hub.receive), so a watch.set would never reach
    `forget` and a kept setting could outlive it. (The hub follows a congress from its first
    websocket on, for good.) Other congresses are read for every anonymous visitor, as before."""

    def __init__(self, db: Any, hub: Any, throttle: FailureThrottle | None = None, life: float = KNOWN_SECONDS) -> None:
        self.db, self.hub = db, hub
        self.throttle = throttle or FailureThrottle()
        self.life = life
        self._known: dict[int, WatchSetting] = {}
        self._generation: dict[int, int] = {}
        self._lock = threading.Lock()

    def forget(self, congress_id: int) -> None:
        """A watch.set event: the next visitor's setting is read again (on every worker)."""
        with self._lock:
            self._known.pop(congress_id, None)
            self._generation[congress_id] = self._generation.get(congress_id, 0) + 1

    def known(self, congress_id: int) -> WatchSetting | None:
        setting = self._known.get(congress_id)
        return setting if setting is not None and setting.until > time.monotonic() else None

    def ticket(self, congress_id: int) -> Ticket:
        return Ticket(congress_id, self._generation.get(congress_id, 0),
                      self.hub.delivered_seq(congress_id) is not None)

    def learn(self, session: Any, congress: Congress, ticket: Ticket) -> WatchSetting:
        """The setting of a congress row just read in `session`, after `ticket` was taken: kept if
        the hub followed the congress before the read and no watch.set arrived since."""
        digest = congress.watch_token_hash if (congress.watch_token_hash or "").startswith(HMAC_PREFIX) else None
        key = None
        if digest is not None:
            row = session.get(Setting, "secret_key")
            key = row.value if row is not None else None
        setting = WatchSetting(congress.id, WatchMode(congress.watch_mode), digest, key,
                               time.monotonic() + self.life)
        with self._lock:
            if ticket.followed and ticket.congress_id == congress.id \
                    and self._generation.get(congress.id, 0) == ticket.generation:
                self._known[congress.id] = setting
        return setting

    def load(self, congress_id: int) -> WatchSetting | None:
        """Read a congress's setting (in a worker thread); None when there is no such congress."""
        ticket = self.ticket(congress_id)
        with self.db.read() as session:
            congress = session.get(Congress, congress_id)
            return None if congress is None else self.learn(session, congress, ticket)

    def admit(self, setting: WatchSetting, token: str | None, address: str | None) -> None:
        """Let an anonymous visitor in, or raise NotAdmitted. At most one HMAC, none when refused early."""
        link_issued = setting.digest is not None and setting.key is not None
        if setting.mode is not WatchMode.TOKEN or not link_issued:
            refusal = may_watch(setting.mode, token_ok=False, link_issued=link_issued)
            if refusal is not None:
                raise refused(refusal)
            return
        token = token or ""
        where = address or "?"
        if token:  # someone without any token made no guess: not counted, nothing to hash
            wait = self.throttle.blocked_for(where)
            if wait > 0:
                raise NotAdmitted("too_many_attempts", f"观看口令错误次数过多，请 {int(wait) + 1} 秒后再试",
                                  CLOSE_THROTTLED, f"too many wrong watch tokens; retry in {int(wait) + 1} s")
        assert setting.key is not None and setting.digest is not None
        ok = (0 < len(token) <= MAX_PRESENTED_CHARS
              and hmac.compare_digest(watch_token_digest(setting.key, token), setting.digest))
        refusal = may_watch(setting.mode, token_ok=ok)
        if refusal is not None:
            if token:
                self.throttle.failed(where)
            raise refused(refusal)


async def admit_anonymous(service: Any, congress_id: int, token: str | None, address: str | None) -> None:
    """An HTTP read without a session: may this visitor watch the congress? Raises NotAdmitted, or
    DomainError no_such_congress. No thread hop when the setting is known."""
    import anyio

    gate: WatchGate = service.watch_gate  # one per application: test servers in one process keep apart
    setting = gate.known(congress_id)
    if setting is None:
        setting = await anyio.to_thread.run_sync(gate.load, congress_id)
        if setting is None:
            raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
    gate.admit(setting, token, address)
