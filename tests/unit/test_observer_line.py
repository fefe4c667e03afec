"""The observers' line: held once, released together, a burst batched, nothing twice, nothing early."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.live.connection import Connection
from congress.live.frames import text_frame
from congress.live.observer_line import ObserverLine, batch

OBSERVER = Actor(role=Role.OBSERVER, name="职工")


def observer(received: list[dict[str, Any]], *, after_seq: int = 0, started: bool = True) -> Connection:
    async def send_text(data: str) -> None:
        received.append(json.loads(data))

    async def close(_code: int, _reason: str) -> None:
        pass

    conn = Connection(actor=OBSERVER, congress_id=1, queue_size=64, close=close, send_text=send_text)
    conn.after_seq = after_seq
    if started:
        conn.start()
    return conn


def event(seq: int) -> str:
    return json.dumps({"msg": "event", "seq": seq, "type": "proposal.submitted", "payload": {"id": seq}},
                      separators=(",", ":"))


def seqs(received: list[dict[str, Any]]) -> list[int]:
    out: list[int] = []
    for message in received:
        if message["msg"] == "events":
            out += [e["seq"] for e in message["events"]]
        elif message["msg"] == "event":
            out.append(message["seq"])
    return out


def hold(line: ObserverLine, seq: int, at: float | None = None) -> None:
    data = event(seq)
    line.hold(seq, time.time() if at is None else at, data, text_frame(data))


def test_a_run_of_events_is_one_message_and_coalesced_state_stays_apart() -> None:
    from congress.live.observer_line import _Held

    held = [_Held(0, s, event(s), text_frame(event(s))) for s in (4, 7)]
    state = '{"msg":"attendance","present":3}'
    held += [_Held(0, 0, state, text_frame(state)), _Held(0, 9, event(9), text_frame(event(9)))]
    messages = batch(held)
    assert [json.loads(m.data)["msg"] for m in messages] == ["events", "attendance", "event"]
    assert [e["seq"] for e in json.loads(messages[0].data)["events"]] == [4, 7]
    assert (messages[0].first, messages[0].last) == (4, 7)
    assert messages[0].frame == text_frame(messages[0].data)


async def _burst_reaches_everyone_once_in_order() -> None:
    a, b, late, mid = [], [], [], []
    line = ObserverLine(0.0)
    line.conns |= {observer(a), observer(b), observer(late, started=False), observer(mid, after_seq=11)}
    for seq in (10, 11, 12):  # the events of one commit: the hub releases them together
        hold(line, seq)
    assert a == []  # nothing leaves before the release
    line.release()
    await asyncio.sleep(0.05)
    assert seqs(a) == seqs(b) == [10, 11, 12]
    assert [m["msg"] for m in a] == ["events"]  # one message for the burst
    assert seqs(mid) == [12]  # its snapshot held 10 and 11
    assert late == []  # still reading its snapshot: waits, then gets what it lacks
    conn = next(c for c in line.conns if not c.is_started)
    conn.after_seq = 10
    conn.start()
    await asyncio.sleep(0.05)
    assert seqs(late) == [11, 12]


def test_a_burst_reaches_every_observer_once_in_order_as_one_message() -> None:
    asyncio.run(_burst_reaches_everyone_once_in_order())


async def _delay_holds_until_due() -> None:
    got: list[dict[str, Any]] = []
    line = ObserverLine(0.3)
    line.conns.add(observer(got))
    started = time.time()
    hold(line, 5, at=started)
    await asyncio.sleep(0.15)
    assert got == []  # the video has not shown it yet
    await asyncio.sleep(0.3)
    assert seqs(got) == [5]


def test_behind_a_stream_delay_nothing_leaves_early() -> None:
    asyncio.run(_delay_holds_until_due())


def test_a_batch_stays_small_enough_for_every_client_and_a_large_event_goes_alone() -> None:
    from congress.live.observer_line import BATCH_BYTES, _Held

    big = json.dumps({"msg": "event", "seq": 3, "type": "agenda.item_added", "payload": {"d": "x" * BATCH_BYTES}})
    held = [_Held(0, s, event(s), text_frame(event(s))) for s in (1, 2)]
    held += [_Held(0, 3, big, text_frame(big)), _Held(0, 4, event(4), text_frame(event(4)))]
    messages = batch(held)
    assert [(m.first, m.last) for m in messages] == [(1, 2), (3, 3), (4, 4)]
    assert all(len(m.data) <= BATCH_BYTES for m in messages if m.first != m.last)
