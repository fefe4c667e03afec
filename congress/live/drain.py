"""Graceful drain: on SIGTERM finish what was accepted, then send every client to another worker.

Left to itself, uvicorn answers SIGTERM by closing its listening sockets and, a tenth of a second
later, every websocket with 1012 — without waiting for the group commit in flight. Its ballots were
committed (the writer finishes its queue at shutdown) but their acknowledgements were never written:
the delegate's page showed "未确认" and resent a ballot that was already counted.

So the first SIGTERM (or SIGINT) of a worker, before uvicorn hears of it:
1. sets `app.state.draining` — /readyz answers 503 and nginx / the orchestrator stop sending here;
2. closes this process's listening sockets (new connections go to the other workers) and refuses
   a websocket handshake that still arrives (an nginx keep-alive connection) with close 1012;
3. stops starting commands: a frame read from now on is not run (no reply; the client resends it
   with the same id after reconnecting, as it does for any command without a reply);
4. waits — at most DRAIN_SECONDS — for every command already started: committed and answered;
5. writes what each connection still has queued (its acknowledgements) and closes every websocket
   with 1012 "service restart" at once; the pages and the rehearsal reconnect at once;
6. hands the signal to uvicorn, which ends HTTP requests in flight, runs the lifespan's shutdown and
   exits. A second SIGTERM or SIGINT (half a second or more after the first) exits at once.

The handlers are installed from the lifespan, that is in each worker process, so this works the same
for one `congress serve` process per port (systemd's congress@8001 …) and for `--workers N`, whose
supervisor forwards SIGTERM to every worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from congress.live.hub import CLOSE_SERVER_RESTART, Hub

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0  # at most this long for the commands in flight (systemd's TimeoutStopSec is 30)
FLUSH_SECONDS = 2.0  # at most this long for a connection's queued replies (a peer that does not read)
CLOSE_REASON = "service restart"
ECHO_SECONDS = 0.5  # a second signal sooner than this is the first one's echo, not "exit now"
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Drain:
    """One worker's drain: the draining flag, the commands in flight, the signal handlers."""

    def __init__(self, state: Any, hub: Hub) -> None:
        self.state = state
        self.hub = hub
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.task: asyncio.Task[None] | None = None
        self.seconds: float | None = None  # how long the last drain took (logged)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, Any] = {}
        self._signal: tuple[int, FrameType | None] | None = None
        self._forced = False
        self._signalled_at = 0.0
        state.draining = False  # THE draining flag (congress.ops.health.is_draining reads it)

    @property
    def draining(self) -> bool:
        return bool(self.state.draining)

    def track(self, task: asyncio.Task[Any]) -> None:
        """A command started on a websocket: the drain waits for it."""
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    # -- signals --------------------------------------------------------------------------------
    def install(self) -> None:
        """Take SIGTERM and SIGINT before uvicorn does (its handlers are kept and called after the
        drain). Only in the main thread: a server run inside a test's thread keeps uvicorn's."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, previous)
        self._previous.clear()

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        if self._signal is not None and time.monotonic() - self._signalled_at < ECHO_SECONDS:
            # The same stop said twice: systemd's KillMode=control-group signals every process of the
            # unit, and uvicorn's --workers supervisor forwards its own SIGTERM to each worker too.
            log.info("%s again at once: still draining", signal.Signals(sig).name)
            return
        if self._signal is not None or self._loop is None or self._loop.is_closed():
            # A second signal: exit now, whatever is still in flight.
            log.warning("second %s: exiting without waiting", signal.Signals(sig).name)
            self._forced = True
            self._pass_on(sig, frame, force=True)
            return
        self._signal = (sig, frame)
        self._signalled_at = time.monotonic()
        self.state.draining = True
        log.warning("%s: draining (no new connections or commands; finishing those in flight)",
                    signal.Signals(sig).name)
        self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        try:
            self._stop_listening()
            await self.finish()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("draining failed; shutting down anyway")
        finally:
            if self._signal is not None and not self._forced:
                self._pass_on(*self._signal)

    def _server(self) -> Any:
        """uvicorn's Server, when its handle_exit is the handler we took over."""
        previous = self._previous.get(signal.SIGTERM)
        return getattr(previous, "__self__", None)

    def _stop_listening(self) -> None:
        # uvicorn would close these itself only after the drain; closed now, new connections are
        # refused here and nginx passes them to the next worker (proxy_next_upstream error).
        for server in getattr(self._server(), "servers", None) or []:
            server.close()

    def _pass_on(self, sig: int, frame: FrameType | None, *, force: bool = False) -> None:
        """Give the signal to the handler we took it from (uvicorn's: it then shuts down)."""
        previous = self._previous.get(sig)
        if callable(previous):
            previous(sig, frame)
            server = getattr(previous, "__self__", None)
            if force and server is not None and hasattr(server, "force_exit"):
                server.force_exit = True  # uvicorn forces only on a second SIGINT; a second SIGTERM too
        else:  # not under uvicorn: the default action
            self.uninstall()
            signal.signal(sig, signal.SIG_DFL if previous in (None, signal.SIG_IGN) else previous)
            signal.raise_signal(sig)

    # -- the drain itself -------------------------------------------------------------------------
    async def finish(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for the commands in flight, write their replies, close every websocket with 1012."""
        started = time.monotonic()
        self.state.draining = True
        waiting = {task for task in self.in_flight if not task.done()}
        if waiting:
            _done, late = await asyncio.wait(waiting, timeout=timeout)
            if late:
                log.error("drain: %d command(s) still running after %.0f s; closing anyway", len(late), timeout)
        conns = [conn for group in self.hub.connections.values() for conn in group]
        await asyncio.gather(*(conn.flush(FLUSH_SECONDS) for conn in conns), return_exceptions=True)
        await self.hub.close_all(CLOSE_SERVER_RESTART, CLOSE_REASON)
        self.seconds = time.monotonic() - started
        log.warning("drained in %.3f s: %d command(s) finished, %d connection(s) closed with %d",
                    self.seconds, len(waiting), len(conns), CLOSE_SERVER_RESTART)
