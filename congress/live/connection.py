"""One client's place in the hub: what waits to be written to it, and the writing.

A message for thousands of observers is offered to every connection in one synchronous loop.
Most connections are idle with a socket that takes data at once, so `offer` writes without a task
and without a queue: the frame is "corked" and leaves with the others of this round, straight to
the transport; without a raw transport the write coroutine is run by hand and, when the server's
send completes without suspending (uvicorn's does, unless the socket's buffer is full), finished on
the spot. Only a write that must wait for the peer, or a connection whose hello is not out yet,
makes messages queue; then a task drains the queue and disappears when it is empty. So an idle
connection costs no task, and a broadcast costs no task switch per connection.

A connection whose peer does not read is cut off with RESYNC (4001) when `queue_size` messages
wait behind a write that cannot complete, or when even a burst outgrows BURST_FACTOR * queue_size;
the client resumes by seq.

What observers read of the log comes through their congress's line (`live.observer_line`),
held and batched there; here it is one more message to write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass, field
from typing import Any

from congress.domain.permissions import Actor
from congress.live.frames import RawSocket, text_frame
from congress.ops import metrics

CLOSE_RESYNC = 4001  # fell behind: reconnect with your last seq
# A connection whose socket still takes data may hold this many times `queue_size` messages: room
# for one group commit's burst (BATCH_LIMIT commands, a few events each) or an observer's stream delay.
BURST_FACTOR = 16
_background: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones
_corked: list[Connection] = []  # connections with frames to write at the end of this loop turn


def flush_corked() -> None:
    """Write each corked connection's frames with one call: one syscall for a burst of events.

    A group commit of ten check-ins publishes ten events at once; to 4,000 observers that was
    40,000 socket writes, and on loopback each write pays the receiver's side too. Frames written
    together are still separate websocket messages, so no client sees a difference."""
    conns = _corked[:]
    _corked.clear()
    for conn in conns:
        conn.uncork()


def _spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


class _Resume:
    """Await a coroutine that was started by hand and suspended on `first`, to finish it in a task.

    This is what `yield from` does: every value the coroutine yields goes to the task driving us,
    and everything the task sends or throws goes back into the coroutine.
    """

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self.coro, self.first = coro, first

    def __await__(self) -> Generator[Any, Any, None]:
        value = self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation, or the future's exception
                try:
                    value = self.coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = self.coro.send(sent)
                except StopIteration:
                    return


@dataclass(eq=False, slots=True)
class Connection:
    actor: Actor
    congress_id: int
    queue_size: int
    close: Callable[[int, str], Coroutine[Any, Any, None]]  # a coroutine: _spawn makes it a task
    send_text: Callable[[str], Coroutine[Any, Any, None]]
    raw: RawSocket | None = None  # uvicorn's socket, for frames built once per broadcast (live.frames)
    delay_seconds: float = 0.0  # observers: the stream's latency (their line holds events that long)
    after_seq: int = 0  # events up to here were in the snapshot or resume; skip them
    is_overflowed: bool = False
    is_closing: bool = False  # a close was sent, or the peer is gone
    is_writing: bool = False  # a write waits for the peer: its socket takes no more data
    is_started: bool = False  # the hello went out; until then everything queues
    pending: deque[tuple[int, str]] = field(default_factory=deque)
    cork: list[tuple[int, str, bytes]] = field(default_factory=list)  # raw frames for this loop turn
    _sender: asyncio.Task[None] | None = None  # only while messages wait

    def offer(self, seq: int, data: str, frame: bytes | None = None) -> None:
        """Write `data` now if nothing is waiting, else queue it. Never waits.

        `frame` is `data` as a websocket frame, when the caller built it once for many connections."""
        if self.is_overflowed or self.is_closing or (seq and seq <= self.after_seq):
            return
        if self._sender is None and self.is_started:
            if self.raw is not None:
                if not self.cork:
                    if not _corked:
                        asyncio.get_running_loop().call_soon(flush_corked)
                    _corked.append(self)
                self.cork.append((seq, data, frame if frame is not None else text_frame(data)))
                return
            self._write_now(data)
            return
        waiting = len(self.pending)
        if waiting >= self.queue_size and (self.is_writing or waiting >= self.queue_size * BURST_FACTOR):
            self.is_overflowed = True
            metrics.slow_client_disconnect()
            _spawn(self.close(CLOSE_RESYNC, "resync: too far behind"))
            return
        self.pending.append((seq, data))
        if self._sender is None and self.is_started:
            self._sender = _spawn(self._drain(None))

    def uncork(self) -> None:
        """Write the corked frames now in one call, or, if the socket cannot take them, queue them."""
        corked, self.cork = self.cork, []
        if not corked or self.is_closing or self.is_overflowed:
            return
        frames = corked[0][2] if len(corked) == 1 else b"".join(c[2] for c in corked)
        if self.raw is not None and self.raw.write(frames):
            return
        # The socket is full or closing: the ordinary path, in order, ahead of anything queued later.
        self.pending.extendleft(reversed([(seq, data) for seq, data, _frame in corked]))
        if self._sender is None:
            self._sender = _spawn(self._drain(None))

    def start(self) -> None:
        """The hello (and any resume backlog) is out: write what queued meanwhile, then go direct."""
        self.is_started = True
        if self.pending and self._sender is None:
            self._sender = _spawn(self._drain(None))

    async def flush(self, timeout: float) -> None:
        """Wait (at most `timeout`) until everything offered so far has been written."""
        if self.cork:
            self.uncork()
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), timeout)
            except Exception:  # a timeout (the peer is not reading) or a failed write
                pass

    def stop(self) -> None:
        self.cork.clear()
        self.is_closing = True
        if self._sender is not None:
            self._sender.cancel()

    def _write_now(self, data: str) -> None:
        write = self.send_text(data)
        try:
            suspended_on = write.send(None)
        except StopIteration:
            return  # written
        except Exception:  # the peer is gone; the receive loop ends the connection
            self.is_closing = True
            return
        # The socket's buffer is full: this write, and everything after it, waits in a task.
        self.is_writing = True
        self._sender = _spawn(self._drain(_Resume(write, suspended_on)))

    async def _drain(self, unfinished: _Resume | None) -> None:
        try:
            if unfinished is not None:
                await unfinished
                self.is_writing = False
            while self.pending and not self.is_closing:
                seq, data = self.pending.popleft()
                if seq and seq <= self.after_seq:
                    continue  # already in the snapshot or the resume backlog
                self.is_writing = True  # a write that does not return at once: the peer is not reading
                await self.send_text(data)
                self.is_writing = False
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer is gone; the receive loop ends the connection
            self.is_closing = True
        finally:
            self._sender = None
