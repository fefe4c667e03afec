"""What observers read, held once per congress and written to all of them together.

Every observer of a congress is on the line of its stream delay (0 when the video is not late).
The line holds each public event, and each piece of coalesced state meant for observers, once for
all of them, until it is due:

- **the stream's delay**: the video reaches observers some seconds late (`set_stream`), and what
  they read must not run ahead of it. A message is due at its event's `created_at` (coalesced
  state: when it was read) plus the delay; one timer per line, not one sleeping task per observer.
- **batching**: a round of writes to every observer costs a syscall each (150–300 ms for 4,000
  on 2 cores shared with their clients), and a burst of public events — a dozen proposals a second
  while delegates file, then a dozen decisions a second at triage — made one round per event.
  A round takes everything due together: the events of one commit (or, behind a delay, all
  that came due while the loop was busy) leave as one message, `{"msg": "events", "events": [...]}`
  (docs/protocol.md): built once, one frame, one parse per client. An isolated event still
  leaves at once, alone.

Messages leave in the order they came; one due earlier than the one before it waits for it. An
observer that joins while messages are held gets those after its snapshot: the batch is offered
whole only to a connection that holds none of it yet, others get its events one by one and
`Connection.offer` skips what the snapshot or resume already held.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from congress.live.connection import Connection
from congress.live.frames import text_frame
from congress.ops import metrics


@dataclass(frozen=True, slots=True)
class _Held:
    due: float  # unix time
    seq: int  # 0: coalesced state, not in the log
    data: str
    frame: bytes


@dataclass(frozen=True, slots=True)
class _Message:
    first: int  # seq of its first event; 0 for coalesced state
    last: int
    data: str
    frame: bytes


# A batch message stays under this size: many clients refuse a message above 1 MiB (the websockets
# library's default), and a large event (an agenda item with a long description) goes alone anyway.
BATCH_BYTES = 64 * 1024


def batch(held: list[_Held]) -> list[_Message]:
    """A round's messages: each run of consecutive events as one message (up to BATCH_BYTES),
    coalesced state apart."""
    messages: list[_Message] = []
    run: list[_Held] = []
    size = 0

    def close_run() -> None:
        if len(run) == 1:
            messages.append(_Message(run[0].seq, run[0].seq, run[0].data, run[0].frame))
        elif run:
            data = '{"msg":"events","events":[' + ",".join(h.data for h in run) + "]}"
            messages.append(_Message(run[0].seq, run[-1].seq, data, text_frame(data)))
        run.clear()

    for item in held:
        if item.seq:
            if run and size + len(item.data) > BATCH_BYTES:
                close_run()
                size = 0
            run.append(item)
            size += len(item.data)
            continue
        close_run()
        size = 0
        messages.append(_Message(0, 0, item.data, item.frame))
    close_run()
    return messages


class ObserverLine:
    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.conns: set[Connection] = set()
        self._held: deque[_Held] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def hold(self, seq: int, at: float, data: str, frame: bytes) -> None:
        """`at`: the event's created_at, or when coalesced state was read (unix time).

        Without a delay the hub calls `release` once it has taken everything that arrived together."""
        self._held.append(_Held(at + self.delay_seconds, seq, data, frame))
        if self.delay_seconds and self._timer is None:
            self._arm()

    def merge(self, items: list[tuple[int, float, str, bytes]]) -> None:
        """Events (seq, created_at, data, frame) an observer's start found not yet due: held in their
        place unless held already (events arriving meanwhile reached the line by themselves)."""
        have = {held.seq for held in self._held if held.seq}
        added = [_Held(at + self.delay_seconds, seq, data, frame) for seq, at, data, frame in items if seq not in have]
        if not added:
            return
        self._held = deque(sorted([*self._held, *added], key=lambda held: held.due))  # stable: order kept
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.delay_seconds:
            self._arm()

    def _arm(self) -> None:
        wait = self._held[0].due - time.time()
        self._timer = asyncio.get_running_loop().call_later(max(0.0, wait), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.release()
        if self._held:
            self._arm()

    def release(self) -> None:
        """Write everything due now to every observer of the line, in one round."""
        now = time.time()
        due: list[_Held] = []
        while self._held and self._held[0].due <= now:
            due.append(self._held.popleft())
        if not due:  # nothing, or woke a little early
            return
        messages = batch(due)
        first_event = next((m.first for m in messages if m.first), 0)
        for conn in self.conns:
            if conn.is_started and (not first_event or conn.after_seq < first_event):
                for message in messages:
                    conn.offer(message.last, message.data, message.frame)
            else:  # still reading its snapshot, or it holds part of this round already
                for item in due:
                    conn.offer(item.seq, item.data, item.frame)
        metrics.events_delivered(sum(1 for item in due if item.seq) * len(self.conns))  # once per round

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()
