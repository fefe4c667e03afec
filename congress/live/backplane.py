"""How committed events travel between worker processes: in memory (one worker) or Redis pub/sub.

The backplane only carries events; their order and completeness come from the database seq, and
the hub re-orders and fills gaps, so a message Redis drops or reorders costs latency, not data.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import IntegrityError

from congress.live.catch_up import CatchUp, Heads, database_heads
from congress.live.hub import Hub, Published
from congress.ops import metrics

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

    from congress.db.engine import Database

log = logging.getLogger(__name__)
CHANNEL = "congress:events"
# A notice (not an event: no congress, no seq) that every worker acts on: sign-ins may have ended or
# roster rows changed, so each re-checks its open connections now (congress.application.connection_access).
ACCESS_NOTICE = "access"


def deployment_channel(db: Database) -> str:
    """The channel of one deployment (one database): `congress:events:<key>`.

    Events carry congress ids and seqs, which are only unique within one database. On one shared
    channel, a staging and a production deployment (or two test databases) on the same Redis
    would each deliver the other's congress 1 events to their own clients and then drop their own
    as duplicates. The key is derived from the instance secret kept in the database, so every
    worker of a deployment finds the same channel however its database URL is spelled, and the
    secret itself never leaves the database.
    """
    from congress.db.secrets import secret_key

    try:
        with db.write() as session:
            secret = secret_key(session)
    except IntegrityError:  # another worker created the secret at the same moment: read theirs
        with db.write() as session:
            secret = secret_key(session)
    key = hashlib.sha256(f"congress-backplane:{secret}".encode()).hexdigest()[:16]
    return f"{CHANNEL}:{key}"


class Backplane(Protocol):
    async def start(self, hub: Hub) -> None: ...
    async def publish(self, items: list[Published]) -> None: ...
    async def notice(self, kind: str) -> None: ...
    async def stop(self) -> None: ...


class MemoryBackplane:
    """One worker: publishing is delivering."""

    def __init__(self) -> None:
        self._hub: Hub | None = None

    async def start(self, hub: Hub) -> None:
        self._hub = hub

    async def publish(self, items: list[Published]) -> None:
        if self._hub is not None:
            self._hub.receive(items)

    async def notice(self, kind: str) -> None:
        if self._hub is not None:
            self._hub.notice(kind)

    async def stop(self) -> None:
        self._hub = None


def _dump(items: list[Published]) -> str:
    return json.dumps([[i.congress_id, i.seq, i.audience, i.audience_id, i.data, i.created_at, i.type]
                       for i in items], ensure_ascii=False)


def _load(raw: str | bytes) -> list[Published]:
    # A worker of the version before (six fields, no type) during a rolling restart: the type from its data
    rows: list[list[Any]] = json.loads(raw)
    return [Published(row[0], row[1], row[2], row[3], row[4], row[5],
                      row[6] if len(row) > 6 else json.loads(row[4]).get("type", "")) for row in rows]


def _notice_of(raw: str | bytes) -> dict[str, str] | None:
    """A notice is a JSON object {"notice", "from"}; events travel as a JSON list."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    if not text.startswith("{"):
        return None
    message = json.loads(text)
    return message if isinstance(message, dict) and isinstance(message.get("notice"), str) else None


class RedisBackplane:
    """Several workers: every worker publishes to its deployment's channel and delivers what it hears.

    While Redis is unreachable (`catch_up`), the worker reads the other workers' events from the
    database instead, and starts (and keeps serving) without it; redis-py reconnects and resubscribes.
    """

    def __init__(self, url: str, channel: str = CHANNEL, heads: Heads | None = None) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self.channel = channel
        self._task: asyncio.Task[None] | None = None
        self._hub: Hub | None = None
        self._me = secrets.token_hex(8)  # this worker: its own notices are acted on before they are sent
        self._sent: dict[tuple[int, int, int], float] = {}  # our messages on their way (backplane lag)
        self.catch_up = CatchUp(heads or (lambda _ids: {}))

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        self.catch_up.attach(hub)
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
        except Exception as exc:  # Redis away at start: serve from the database, subscribe when it is back
            self.catch_up.went_down(exc)
        self._task = asyncio.get_running_loop().create_task(self._listen(pubsub))

    async def _listen(self, pubsub: PubSub) -> None:
        while True:
            try:
                if not pubsub.subscribed:
                    await pubsub.subscribe(self.channel)
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                # An answer (a message or none within the timeout) means connected and subscribed again
                self.catch_up.came_back()
                if message is not None and self._hub is not None:
                    notice = _notice_of(message["data"])
                    if notice is None:
                        items = _load(message["data"])
                        self._heard(items)
                        self._hub.receive(items)
                    elif notice.get("from") != self._me:
                        self._hub.notice(notice["notice"])
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:  # Redis away: the database carries the events meanwhile
                self.catch_up.went_down(exc)
                await asyncio.sleep(0.5)

    async def publish(self, items: list[Published]) -> None:
        # Local clients need not wait for the round trip; the hub drops the echo by seq.
        if self._hub is not None:
            self._hub.receive(items)
        try:
            self._sending(items)
            await self._redis.publish(self.channel, _dump(items))
        except Exception as exc:
            # Committed already; the other workers read them from the database while Redis is away.
            self.catch_up.went_down(exc)

    async def notice(self, kind: str) -> None:
        if self._hub is not None:
            self._hub.notice(kind)
        try:
            await self._redis.publish(self.channel, json.dumps({"notice": kind, "from": self._me}))
        except Exception as exc:  # every worker's periodic sweep still finds what changed
            self.catch_up.went_down(exc)

    def _sending(self, items: list[Published]) -> None:
        """Backplane lag (congress.ops.metrics): each worker hears its own messages back from Redis, and
        times them from here to there. The same path as the others' messages, and no clock shared between
        hosts needed (an event's created_at is when its batch began, before the commit)."""
        if items:
            if len(self._sent) >= 1000:  # Redis away: nothing comes back; forget the oldest
                del self._sent[next(iter(self._sent))]
            self._sent[(items[0].congress_id, items[0].seq, len(items))] = time.monotonic()

    def _heard(self, items: list[Published]) -> None:
        sent = self._sent.pop((items[0].congress_id, items[0].seq, len(items)), None) if items else None
        if sent is not None:
            metrics.backplane_lag(time.monotonic() - sent)

    async def ping(self) -> None:
        """Whether Redis answers (/readyz, congress.ops.health): PING on the publishing connection."""
        await self._redis.ping()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.catch_up.stop()
        await self._redis.aclose()


def make_backplane(redis_url: str | None, db: Database | None = None) -> Backplane:
    if not redis_url:
        return MemoryBackplane()
    if db is None:
        return RedisBackplane(redis_url)
    return RedisBackplane(redis_url, deployment_channel(db), database_heads(db))
