"""One rate budget per person, shared by all their websocket connections and HTTP requests.

Each person (the actor's principal: `delegate:<id>` or `account:<id>`; observers, who have no
identity, by their address) has one token bucket. Every command spends from it, whichever socket
or HTTP request it comes by: ten sockets, or HTTP next to a socket, no longer multiply the rate.
Found in issue 18: one delegate created 2,408 drafts in 10 s over HTTP, unlimited, while the
websocket's limit was per connection.

Over budget, a websocket command is refused (`rate_limited`) and the socket's next frame is read
no sooner than it could be allowed; an HTTP request up to QUEUE_SECONDS ahead waits its turn, one
further ahead is refused with 429 after a hold. A sign-in known to be over budget is refused before
its session is read.

The budget lives in one object per server process (app.state.budget, made in the app's lifespan).
With several workers (`--workers N`) each keeps its own: a person whose connections are spread
over N workers gets up to N budgets (docs/api.md says so).

Used on the event loop only (HTTP handlers and the websocket receive loop run there): no lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor

# Staff at the check-in desk (or a script of theirs) go fast. Observers are counted per address,
# and a company's NAT puts many watchers behind one address; they only read (the board is cached).
FAST_FACTOR = 10
BURST_SECONDS = 2.0  # a full bucket holds this many seconds of the rate: a page's opening reads
# What one request spends. A command is one, read or write alike: the writer commits many writes
# together (group commit), so a write is not much dearer than a read, and the caps on drafts and
# attachment bytes (domain.limits) bound what writes can pile up. An upload or a roster import
# carries up to 10–20 MB and has a transaction of its own: ten.
COMMAND_COST = 1.0
UPLOAD_COST = 10.0
SWEEP_SECONDS = 10.0  # how often idle buckets are forgotten
MAX_PAUSE_SECONDS = 1.0  # a refusal for the rate waits up to this long (HTTP answer, the socket's next read)
QUEUE_SECONDS = 1.0  # an HTTP request this far ahead of its person's budget waits its turn instead of a 429
KNOWN_SESSIONS = 20_000  # sign-ins whose person is known without a read (the oldest are forgotten)


class RateLimited(DomainError):
    """Over budget: `retry_after` seconds until the request would be allowed."""

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__("rate_limited", f"操作过于频繁，请 {seconds} 秒后再试", params={"seconds": seconds})
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))  # HTTP wants whole seconds


@dataclass(slots=True)
class _Bucket:
    rate: float
    burst: float
    tokens: float  # below 0 while HTTP requests wait their turn (RateBudget.reserve)
    at: float

    def refill(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return self.tokens


class RateBudget:
    def __init__(self, commands_per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = commands_per_second
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._swept = clock()
        # Whose bucket a session cookie spends, learnt when it was last let in: a request from a
        # person already over budget is refused before the session is looked up (a thread hop and a
        # read each). Found in bench/flood.py: refused requests that still read the session kept
        # the flood costly. A digest of the cookie is kept, not the cookie.
        self._sessions: dict[bytes, str] = {}

    @staticmethod
    def key(actor: Actor, address: str | None) -> str:
        if actor.role is Role.OBSERVER:
            return f"observer@{address or '?'}"
        return actor.principal

    def rate_for(self, actor: Actor) -> float:
        return self.rate * (FAST_FACTOR if actor.role in (Role.STAFF, Role.OBSERVER) else 1)

    def _bucket(self, actor: Actor, address: str | None) -> _Bucket:
        now = self.clock()
        if now - self._swept >= SWEEP_SECONDS:
            self._sweep(now)
        key = self.key(actor, address)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self.rate_for(actor)
            bucket = self._buckets[key] = _Bucket(rate, rate * BURST_SECONDS, rate * BURST_SECONDS, now)
        bucket.refill(now)
        return bucket

    def spend(self, actor: Actor, address: str | None, cost: float = COMMAND_COST) -> float:
        """Take `cost` from this person's bucket now: 0.0 if allowed, else the seconds to wait (nothing taken)."""
        bucket = self._bucket(actor, address)
        if bucket.tokens < cost - 1e-9:  # (a client that waited exactly the advised time is not refused by rounding)
            return (cost - bucket.tokens) / bucket.rate
        bucket.tokens -= cost
        return 0.0

    def reserve(self, actor: Actor, address: str | None, cost: float = COMMAND_COST) -> tuple[float, float]:
        """For an HTTP request: (delay, 0.0) if it is taken, to be served after `delay` seconds (its
        turn, at most QUEUE_SECONDS away), or (0.0, wait) if it is refused, nothing taken: `wait`
        seconds until it would be served at once."""
        bucket = self._bucket(actor, address)
        if bucket.tokens - cost < -bucket.rate * QUEUE_SECONDS - 1e-9:
            return 0.0, (cost - bucket.tokens) / bucket.rate
        bucket.tokens -= cost
        return (-bucket.tokens / bucket.rate if bucket.tokens < -1e-9 else 0.0), 0.0

    def remember(self, cookie: str | None, actor: Actor) -> None:
        """This session cookie is this signed-in person's (observers have no cookie to remember)."""
        if not cookie or actor.role is Role.OBSERVER:
            return
        digest = _digest(cookie)
        if digest not in self._sessions and len(self._sessions) >= KNOWN_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        self._sessions[digest] = actor.principal

    def wait_before_reading(self, cookie: str | None, cost: float = COMMAND_COST, queue: float = 0.0) -> float:
        """Seconds the person behind this cookie must wait before `cost` is allowed (with `queue`
        seconds of waiting allowed), known without a read: 0.0 if unknown or allowed. Takes
        nothing: the request, if let through, is charged once its sender is known."""
        key = self._sessions.get(_digest(cookie)) if cookie else None
        bucket = self._buckets.get(key) if key else None
        if bucket is None:
            return 0.0
        tokens = bucket.refill(self.clock())
        return 0.0 if tokens - cost >= -bucket.rate * queue - 1e-9 else (cost - tokens) / bucket.rate

    async def charge(self, actor: Actor, address: str | None, cookie: str | None, cost: float = COMMAND_COST) -> None:
        """An HTTP request of this person's. Within budget it goes on at once; up to QUEUE_SECONDS
        ahead of it, it waits its turn (a timer) and goes on; beyond that RateLimited, after a hold.

        Found in bench/flood.py: refusing at once let ten connections ignoring Retry-After send
        150–250 requests a second, each parsed and answered while other delegates waited. Served in
        turn instead, such a client gets what its budget allows and no more, at the cost of timers."""
        self.remember(cookie, actor)
        delay, wait = self.reserve(actor, address, cost)
        if wait:
            raise await _held(wait)
        if delay:
            await asyncio.sleep(delay)

    async def refuse_early(self, cookie: str | None, cost: float = COMMAND_COST, queue: float = QUEUE_SECONDS) -> None:
        """RateLimited (after a hold), before any read, if this cookie's person is known to be over
        budget by more than `queue` seconds."""
        wait = self.wait_before_reading(cookie, cost, queue)
        if wait:
            raise await _held(wait)

    def _sweep(self, now: float) -> None:
        # A bucket idle long enough to be full again is the same as no bucket: forget it.
        self._swept = now
        idle = [key for key, b in self._buckets.items() if b.tokens + (now - b.at) * b.rate >= b.burst]
        for key in idle:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


async def _held(wait: float) -> RateLimited:
    """A refusal, answered no sooner than a retry could succeed (at most MAX_PAUSE_SECONDS on): a
    client that ignores Retry-After gets about one answer a second per connection."""
    held = min(wait, MAX_PAUSE_SECONDS)
    await asyncio.sleep(held)
    return RateLimited(max(0.0, wait - held))


def _digest(cookie: str) -> bytes:
    return hashlib.blake2b(cookie.encode(), digest_size=16).digest()


class SocketAllowance:
    """What one websocket connection may send: the person's budget for commands, `ping` free of it.

    The per-socket guard on frames of any kind (pings too) stays as it was, so a socket flooding
    even pings is still refused and, after enough strikes, closed. It is never looser than the
    person's budget, except for observers: their budget is per address (many watchers behind one
    NAT share it), their guard per socket at the delegates' rate."""

    def __init__(self, budget: RateBudget, actor: Actor, address: str | None) -> None:
        self.budget, self.actor, self.address = budget, actor, address
        rate = budget.rate * (FAST_FACTOR if actor.role is Role.STAFF else 1)
        self._frames = _Bucket(rate, rate * BURST_SECONDS, rate * BURST_SECONDS, budget.clock())
        self.retry_after = 0.0

    def take(self, op: str) -> bool:
        now = self.budget.clock()
        frames = self._frames
        if frames.refill(now) < 1:
            self.retry_after = (1 - frames.tokens) / frames.rate
            return False
        frames.tokens -= 1
        if op == "ping":
            return True
        self.retry_after = self.budget.spend(self.actor, self.address)
        return not self.retry_after
