"""One websocket client of the rehearsal, speaking docs/protocol.md like web/js/live.js does.

A `Peer` keeps its resume point (the greatest `seq` it holds), reconnects with `since` after any
drop — one we cause (`drop()`, an abrupt TCP abort, like a phone losing its network) or one the
server causes (4001 resync, 1012 restart) — and resends every command still waiting for its reply
with the *same* id, so the server answers with the first result and applies nothing twice.

Faults (`congress rehearse --fault`, rehearsal/faults.py): a command answered `unavailable` (the
database unreachable) is resent with the same id after `retry_after`, as the pages do; a socket
refused with `unavailable`/`rate_limited` before its hello (close 1013) is retried, not given up; a
worker that refuses connections is left for the next of the rehearsal's URLs at once, as a load
balancer would, and so is one that closes with 1012 (it is draining); and every connection lost without our asking is kept as an outage (lost, back).

For the lost/duplicate check it records every event seq it receives (in arrival order, resumes
included) and the *intervals* of the log it was responsible for: an interval starts at the hello
`seq` of a fresh snapshot and grows with every event; a resume (`resumed: true`) continues the
interval; only a resume answered by a fresh snapshot (too far behind) starts a new one.

Observers read events on a fast path (the seq and type are the first fields of every encoded
event, also inside an `events` batch; anything else is parsed as JSON), because a client process
holds a thousand of them.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from array import array
from collections import Counter
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from congress.client.http import NotARehearsal, check_rehearsal

EVENT_PREFIX = '{"msg":"event","seq":'
BATCH_PREFIX = '{"msg":"events","events":['
TYPE_PREFIX = '"type":"'
MAX_CONNECT_ATTEMPTS = 12
CLOSE_RESYNC, CLOSE_RESTART, CLOSE_TRY_AGAIN_LATER = 4001, 1012, 1013
REFUSED = (4401, 4403, 4404)
RETRYABLE = ("unavailable", "rate_limited")  # error codes answered by sending the same command again


class Peer:
    def __init__(self, kind: str, ws_url: str, congress_id: int, *, cookie: str | None = None,
                 label: str = "", parse_events: bool = False, compression: str | None = "deflate",
                 seq_types: dict[int, str] | None = None, on_event: Callable[[Peer, dict[str, Any]], None] | None = None,
                 rng: random.Random | None = None, alternates: list[str] | None = None) -> None:
        self.kind, self.ws_url, self.congress_id, self.cookie = kind, ws_url, congress_id, cookie
        # the URLs to try in turn when one refuses connections (its worker stopped): this one first
        self.ws_urls = [ws_url] + [u for u in (alternates or []) if u != ws_url]
        self._url_index = 0
        self.label = label
        self.parse_events = parse_events  # delegates and staff need payloads; observers only seqs
        self.compression = compression
        self.seq_types = seq_types if seq_types is not None else {}
        self.type_conflicts: list[tuple[int, str, str]] = []
        self.on_event = on_event
        self.rng = rng or random.Random()
        self.ws: ClientConnection | None = None
        self.seq: int | None = None  # resume point: greatest seq held
        self.head_at_hello = 0
        self.intervals: list[list[int]] = []  # [start (exclusive), end (inclusive)] of the log we hold
        self.seqs = array("q")
        self.times = array("d")
        self.live = bytearray()  # 1: delivered live; 0: in a resume backlog
        self.order_violations = 0
        self.hellos = 0
        self.resumes = 0
        self.snapshot_fallbacks = 0
        self.planned_drops = 0
        self.closes: Counter[str] = Counter()  # how connections ended (code or reason)
        self.connect_failures = 0
        self.resends = 0
        self.retried = 0  # commands sent again after a retryable refusal (`unavailable`)
        self.moved = 0  # reconnections made to another of the URLs
        self.outages: list[tuple[float, float]] = []  # connections lost unasked: (lost, back at the next hello)
        self._lost_at = 0.0
        self._retry_after = 0.0
        self.stray_replies = 0
        self.failed: str | None = None  # gave up: the reason
        self.fatal: str | None = None  # refused, or not a rehearsal
        self.connected = asyncio.Event()
        self.synced_at = 0.0  # when the pong after the latest hello came: backlog fully received
        self.first_hello_at = 0.0
        self.pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]], float]] = {}
        self.finished = False
        self._planned = False
        self._dropped_at = 0.0
        self.resync_seconds: list[float] = []  # from each planned drop to the backlog received
        self._sync_id = ""
        self._counter = 0
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.hello: dict[str, Any] = {}
        self.context: Any = None  # the owner's state for this client (a delegate's votes, ...)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    async def wait_connected(self, timeout: float) -> bool:
        waiter = asyncio.ensure_future(self.connected.wait())
        done, _ = await asyncio.wait({waiter, self._task} if self._task else {waiter}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
        return self.connected.is_set()

    @property
    def away(self) -> bool:
        """Lost its connection unasked and not back (yet)."""
        return bool(self._lost_at)

    def _url(self) -> str:
        url = f"{self.ws_urls[self._url_index]}?congress={self.congress_id}"
        return url if self.seq is None else f"{url}&since={self.seq}"

    async def _run(self) -> None:
        attempt = 0
        while not self.finished:
            headers = {"Cookie": f"congress_session={self.cookie}"} if self.cookie else None
            try:
                ws = await connect(self._url(), additional_headers=headers, compression=self.compression,
                                   open_timeout=90, ping_interval=None, close_timeout=5, max_size=2**24,
                                   max_queue=64)
            except Exception as exc:
                self.connect_failures += 1
                if not self._lost_at:
                    self._lost_at = time.time()
                if len(self.ws_urls) > 1 and not self.finished:
                    # refused here: the next URL at once, as a load balancer moves on; back-off per round
                    self._url_index = (self._url_index + 1) % len(self.ws_urls)
                    self.moved += 1
                    if self._url_index != 0:
                        continue
                attempt += 1
                if attempt >= MAX_CONNECT_ATTEMPTS or self.finished:
                    self.failed = f"connect: {exc.__class__.__name__}: {exc}"[:300]
                    break
                await asyncio.sleep(min(30.0, 2 ** (attempt - 1)) * (0.5 + self.rng.random() / 2))
                continue
            attempt = 0
            code = await self._session(ws)
            self.connected.clear()
            self.ws = None
            if self.finished or self.fatal:
                break
            if not self._planned and not self._lost_at:
                self._lost_at = time.time()
            # Reconnect as the pages do: at once after a resync, spread after a restart, after a
            # short back-off (0.5–1 s) after a network loss.
            if code == CLOSE_RESYNC:
                delay = self.rng.random() * 0.5
            elif code == CLOSE_RESTART:  # a worker drained (congress.live.drain): another takes us at once
                delay = self.rng.random() * 0.25
                if len(self.ws_urls) > 1:  # with several URLs (no balancer in front): the next one
                    self._url_index = (self._url_index + 1) % len(self.ws_urls)
                    self.moved += 1
            elif code == CLOSE_TRY_AGAIN_LATER:  # refused before the hello: wait as told, spread
                delay = self._retry_after * (0.5 + self.rng.random())
            else:
                delay = 0.5 + self.rng.random() * 0.5
            await asyncio.sleep(delay)
        self._wake_seq_waiters(final=True)

    async def _session(self, ws: ClientConnection) -> int | None:
        """One connection: hello, resend what waits for a reply, read until it ends; the close code."""
        try:
            hello = json.loads(await ws.recv())
        except Exception as exc:
            self.closes[f"before hello: {exc.__class__.__name__}"] += 1
            await _quiet_close(ws)
            return CLOSE_RESTART if ws.close_code == CLOSE_RESTART else None  # a draining worker's refusal
        if hello.get("msg") != "hello":
            if hello.get("code") in RETRYABLE:  # the database away, or too many at once: try again
                self.closes[f"before hello: {hello.get('code')}"] += 1
                self._retry_after = max(0.5, float(hello.get("retry_after") or 1))
                await _quiet_close(ws)
                return CLOSE_TRY_AGAIN_LATER
            self.fatal = f"refused: {hello.get('code')} {hello.get('message')}"
            await _quiet_close(ws)
            return None
        now = time.time()
        self.hellos += 1
        self.hello = hello
        if hello.get("congress_id") != self.congress_id:
            self.fatal = f"hello for congress {hello.get('congress_id')}, expected {self.congress_id}"
            await _quiet_close(ws)
            return None
        if hello.get("resumed") and self.seq is not None:
            self.resumes += 1
            if hello.get("since") != self.seq:
                self.type_conflicts.append((self.seq, "resume", f"since {hello.get('since')}"))
        else:
            try:
                check_rehearsal(hello.get("snapshot"), self.congress_id)
            except NotARehearsal as refusal:
                self.fatal = str(refusal)
                await _quiet_close(ws)
                return None
            if self.seq is not None:
                self.snapshot_fallbacks += 1  # asked to resume, got a fresh snapshot: a new interval
            self.seq = int(hello["seq"])
            self.intervals.append([self.seq, self.seq])
            if not self.first_hello_at:
                self.first_hello_at = now
        self.head_at_hello = int(hello["seq"])
        if self._lost_at:
            self.outages.append((self._lost_at, now))
            self._lost_at = 0.0
        self.ws = ws
        self._planned = False
        self.synced_at = 0.0
        self._counter += 1
        self._sync_id = f"sync-{self._counter}"
        try:
            await ws.send(f'{{"op":"ping","id":"{self._sync_id}"}}')
            for frame, future, _t in list(self.pending.values()):
                if not future.done():
                    self.resends += 1
                    await ws.send(frame)
        except Exception:
            pass
        self.connected.set()
        try:
            async for raw in ws:
                self._receive(raw)  # type: ignore[arg-type]
        except Exception:
            pass
        code = ws.close_code
        self.closes["planned drop" if self._planned else str(code)] += 1
        return code

    # -- receiving -------------------------------------------------------------------------------
    def _receive(self, raw: str) -> None:
        now = time.time()
        if not self.parse_events and (raw.startswith(EVENT_PREFIX) or raw.startswith(BATCH_PREFIX)):
            # Each event of a batch is an encoded event too; inside a JSON string its quotes would
            # be escaped, so the prefix found here is always the start of an event.
            at = raw.find(EVENT_PREFIX)
            while at >= 0:
                begin = at + len(EVENT_PREFIX)
                cut = raw.index(",", begin)
                start = cut + 1 + len(TYPE_PREFIX)
                etype = raw[start:raw.index('"', start)] if raw.startswith(TYPE_PREFIX, cut + 1) else "?"
                self._event(int(raw[begin:cut]), etype, now)
                at = raw.find(EVENT_PREFIX, cut)
            return
        message = json.loads(raw)
        kind = message.get("msg")
        if kind in ("event", "events"):  # "events": a burst written to observers as one message
            for event in message["events"] if kind == "events" else [message]:
                self._event(int(event["seq"]), str(event.get("type")), now)
                if self.on_event is not None:
                    self.on_event(self, event)
        elif kind in ("ack", "error"):
            entry = self.pending.pop(str(message.get("id")), None) if message.get("id") is not None else None
            if entry is None:
                self.stray_replies += 1
                if self.on_event is not None and kind == "error":
                    self.on_event(self, message)
            elif not entry[1].done():
                entry[1].set_result(message)
        elif kind == "pong":
            if message.get("id") == self._sync_id:
                self.synced_at = now
                if self._dropped_at:
                    self.resync_seconds.append(now - self._dropped_at)
                    self._dropped_at = 0.0

    def _event(self, seq: int, etype: str, now: float) -> None:
        self.seqs.append(seq)
        self.times.append(now)
        # live: after the hello's head and after the pong that follows the backlog (an observer's
        # resume hello carries `since`, not the head: congress.application.observer_start)
        self.live.append(1 if seq > self.head_at_hello and self.synced_at else 0)
        known = self.seq_types.get(seq)
        if known is None:
            self.seq_types[seq] = etype
        elif known != etype:
            self.type_conflicts.append((seq, known, etype))
        if self.seq is not None and seq > self.seq:
            self.seq = seq
            if self.intervals:
                self.intervals[-1][1] = seq
        else:
            self.order_violations += 1
        if self._seq_waiters:
            self._wake_seq_waiters()

    def _wake_seq_waiters(self, final: bool = False) -> None:
        keep = []
        for target, future in self._seq_waiters:
            if future.done():
                continue
            if (self.seq or 0) >= target or final:
                future.set_result(None)
            else:
                keep.append((target, future))
        self._seq_waiters = keep

    async def wait_seq(self, target: int, timeout: float) -> bool:
        if (self.seq or 0) >= target:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((target, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        return (self.seq or 0) >= target

    # -- commands --------------------------------------------------------------------------------
    async def command(self, op: str, command_id: str, timeout: float = 180.0, **args: Any) -> tuple[dict[str, Any], float]:
        """Send one command (resent after a reconnect until answered); (the reply, send time)."""
        frame = json.dumps({"op": op, "id": command_id, **args}, ensure_ascii=False)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        sent_at = time.time()
        self.pending[command_id] = (frame, future, sent_at)
        if self.ws is not None and self.connected.is_set():
            try:
                await self.ws.send(frame)
            except Exception:
                pass  # the reconnect resends it
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = await asyncio.wait_for(future, max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                self.pending.pop(command_id, None)
                reply = {"msg": "error", "id": command_id, "op": op, "code": "rehearsal_timeout",
                         "message": f"no reply within {timeout:.0f} s"}
                break
            if reply.get("code") != "unavailable" or time.monotonic() >= deadline:
                break
            # nothing was done: the same id again after retry_after (the first reply if it was applied)
            self.retried += 1
            await asyncio.sleep(float(reply.get("retry_after") or 1) * (0.5 + self.rng.random() / 2))
            future = asyncio.get_running_loop().create_future()
            self.pending[command_id] = (frame, future, sent_at)
            if self.ws is not None and self.connected.is_set():
                try:
                    await self.ws.send(frame)
                except Exception:
                    pass  # the reconnect resends it
        return reply, sent_at

    def drop(self) -> bool:
        """Cut the connection abruptly (no close handshake), as a lost network would."""
        ws = self.ws
        if ws is None or not self.connected.is_set():
            return False
        self.planned_drops += 1
        self._planned = True
        self._dropped_at = time.time()
        ws.transport.abort()
        return True

    async def close(self) -> None:
        self.finished = True
        ws = self.ws
        if ws is not None:
            await _quiet_close(ws)
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, Exception):
                self._task.cancel()


async def _quiet_close(ws: ClientConnection) -> None:
    try:
        await asyncio.wait_for(ws.close(), 5)
    except Exception:
        try:
            ws.transport.abort()
        except Exception:
            pass
