"""Resuming from the hub's memory: exactly what was missed, or nothing — then the log is read."""

from __future__ import annotations

import asyncio
import json

import pytest

from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Actor
from congress.live import hub as hub_module
from congress.live.connection import Connection
from congress.live.hub import Hub, Published

CONGRESS = 1


def published(seq: int, audience: Audience = Audience.PUBLIC) -> Published:
    data = json.dumps({"msg": "event", "seq": seq, "type": "x.y", "payload": {}})
    return Published(CONGRESS, seq, audience.value, None, data, 0.0)


async def _no_gap(_c: int, _a: int, _u: int) -> list[Published]:
    return []


def following_hub(head: int) -> Hub:
    """A hub that follows the congress from `head` (one staff connection registered)."""
    hub = Hub(fetch_missing=_no_gap)

    async def close(_code: int, _reason: str) -> None:
        pass

    async def send_text(_data: str) -> None:
        pass

    staff = Connection(actor=Actor(role=Role.STAFF, name="工作人员"), congress_id=CONGRESS, queue_size=8,
                       close=close, send_text=send_text)
    hub.register(staff, head)
    return hub


def seqs(backlog: list[str]) -> list[int]:
    return [json.loads(data)["seq"] for data in backlog]


async def _observer_gets_exactly_the_public_events_it_missed() -> None:
    hub = following_hub(10)
    hub.receive([published(11), published(12, Audience.STAFF), published(13), published(14, Audience.GROUP)])
    assert hub.resume(CONGRESS, 11, public_only=True) == (14, [published(13).data])
    assert hub.resume(CONGRESS, 10, public_only=True) == (14, [published(11).data, published(13).data])
    assert hub.resume(CONGRESS, 13, public_only=True) == (14, [])
    # a delegate or staff may have missed non-public events: only holding the head itself is enough
    assert hub.resume(CONGRESS, 13, public_only=False) is None
    assert hub.resume(CONGRESS, 14, public_only=False) == (14, [])
    # before the hub followed the congress, or ahead of it: read the log
    assert hub.resume(CONGRESS, 9, public_only=True) is None
    assert hub.resume(CONGRESS, 15, public_only=True) is None
    assert hub.resume(2, 0, public_only=True) is None


def test_an_observer_resumes_with_exactly_the_public_events_it_missed() -> None:
    asyncio.run(_observer_gets_exactly_the_public_events_it_missed())


async def _forgotten_events_send_the_client_to_the_log() -> None:
    hub = following_hub(0)
    hub.receive([published(seq) for seq in range(1, 8)])  # keeps the last 3: 5, 6, 7
    resumed = hub.resume(CONGRESS, 4, public_only=True)
    assert resumed is not None and seqs(resumed[1]) == [5, 6, 7]
    assert hub.resume(CONGRESS, 3, public_only=True) is None  # 4 is forgotten


def test_an_observer_that_missed_more_than_the_hub_keeps_reads_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "RECENT_PUBLIC", 3)
    asyncio.run(_forgotten_events_send_the_client_to_the_log())
