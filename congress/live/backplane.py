"""How committed events travel between worker processes: in memory (one worker) or Redis pub/sub.

The backplane only carries events; their order and completeness come from the database seq, and
the hub re-orders and fills gaps, so a message Redis drops or reorders costs latency, not data.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Protocol

from congress.live.hub import Hub, Published

log = logging.getLogger(__name__)
CHANNEL = "congress:events"


class Backplane(Protocol):
    async def start(self, hub: Hub) -> None: ...
    async def publish(self, items: list[Published]) -> None: ...
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

    async def stop(self) -> None:
        self._hub = None


def _dump(items: list[Published]) -> str:
    return json.dumps([[i.congress_id, i.seq, i.audience, i.audience_id, i.data, i.created_at] for i in items],
                      ensure_ascii=False)


def _load(raw: str | bytes) -> list[Published]:
    return [Published(*row) for row in json.loads(raw)]


class RedisBackplane:
    """Several workers: every worker publishes to one channel and delivers what it hears."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._hub: Hub | None = None

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._task = asyncio.get_running_loop().create_task(self._listen(pubsub))

    async def _listen(self, pubsub) -> None:  # type: ignore[no-untyped-def]
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and self._hub is not None:
                    self._hub.receive(_load(message["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:  # a lost message is refetched by the hub's gap filling
                log.exception("redis backplane: receiving failed; retrying")
                await asyncio.sleep(0.5)

    async def publish(self, items: list[Published]) -> None:
        # Local clients need not wait for the round trip; the hub drops the echo by seq.
        if self._hub is not None:
            self._hub.receive(items)
        try:
            await self._redis.publish(CHANNEL, _dump(items))
        except Exception:
            # Committed already; other workers find the events by gap filling or on resume.
            log.exception("redis backplane: publishing failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._redis.aclose()


def make_backplane(redis_url: str | None) -> Backplane:
    return RedisBackplane(redis_url) if redis_url else MemoryBackplane()
