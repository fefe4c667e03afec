"""Fan-out benchmark: how fast one public change reaches N observers, and what each costs in memory.

    python bench/fanout.py [--observers 1000,4000] [--rounds 100] [--client-procs 2]
    python bench/fanout.py --workers 2 --database-url postgresql+psycopg://postgres@127.0.0.1/fanout \
        --redis-url redis://127.0.0.1:6379/0 --observers 19000 --client-procs 2 --rounds 30

For each N, against a fresh server process each time:

* congress: `congress serve` (a subprocess) on a SQLite file built like `congress demo --no-serve`;
  N observers connect to /ws; a staff connection sends `set_current_item` once per round and
  we time from sending the command until every observer has the `agenda.current_changed` event.
* bare: a plain `websockets` server (websockets.asyncio.server.serve + websockets.broadcast) of
  the same event-sized message to the same N clients, with the same compression setting.

With --workers K (K > 1: PostgreSQL and Redis, as deployed), K `congress serve` processes share the
database; the staff connection is on the first, and client process i connects its observers to
worker i mod K, so the event reaches most observers through Redis. The bare baseline is then K
bare servers, each sent the message by the benchmark directly (no relay: a floor). More than one
worker is how 19,000–20,000 observers fit: one process's open files end near 20,000.

Observers run in --client-procs separate processes (asyncio + uvloop, N/k connections each) so
the client side is not one process and no process needs more than ~19,000 open files. Latency
per round is "the last observer has it" minus "the command was sent" (CLOCK_MONOTONIC is shared
by all processes). Memory per observer is the server's VmRSS after N idle observers minus before
(after a small warm-up), divided by N. Targets: at 4,000 observers, p99 within 1.5x the bare
server's, and at most 40 KB per idle observer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from congress.ops.server_process import ServerProcess, end_process, free_port  # noqa: E402

CONNECT_CONCURRENCY = 64  # handshakes in flight per client process
WARM_UP = 20  # observers connected and dropped before the "before" memory reading
# Clients offer permessage-deflate as browsers do; each server decides. The bare server is told
# to decide as the congress server did, so both put the same bytes on the wire.
OFFER = "deflate"


# -- servers -------------------------------------------------------------------------------------
def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def bare_server(port: int, compression: str | None) -> None:
    """The baseline: websockets' own server and broadcast(), nothing else."""
    import uvloop
    from websockets.asyncio.server import broadcast, serve

    async def main() -> None:
        observers: set[Any] = set()

        async def handler(ws: Any) -> None:
            if ws.request.path.startswith("/control"):
                async for raw in ws:
                    broadcast(observers, raw)  # encoded once, written to every connection
                    await ws.send('{"msg":"ack"}')
                return
            await ws.send('{"msg":"hello"}')
            observers.add(ws)
            try:
                await ws.wait_closed()
            finally:
                observers.discard(ws)

        async with serve(handler, "127.0.0.1", port, compression=compression, backlog=4096, max_size=65536):
            await asyncio.Future()

    uvloop.run(main())


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    ws_url: str  # where observers connect
    started: ServerProcess | None = None  # a congress server: how it was started (congress.ops.server_process)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.started is not None:
            self.started.stop(signal.SIGTERM, 15)
        else:
            end_process(self.process, signal.SIGTERM, 15)


def start_congress(database_url: str, folder: Path, congress_id: int, redis_url: str | None = None) -> Server:
    port = free_port()
    try:  # configured by its arguments only (no CONGRESS_* of this shell), run in the bench's folder
        started = ServerProcess(database_url, folder / f"congress-{port}.log", redis_url=redis_url, port=port,
                                clean_env=True, cwd=folder)
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    return Server("congress", started.process, port, f"{started.ws_url}?congress={congress_id}", started)


def start_bare(folder: Path, compression: str | None) -> Server:
    port = free_port()
    log = folder / f"bare-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, __file__, "--bare-server", str(port),
                                    "--bare-compression", compression or "none"], stdout=out,
                                   stderr=subprocess.STDOUT, cwd=folder)
    wait_port(port, process, log)
    return Server("bare websockets", process, port, f"ws://127.0.0.1:{port}/watch")


# -- observers (in client processes) -----------------------------------------------------------
def observer_process(index: int, url: str, count: int, commands: Any, reports: Any) -> None:
    import uvloop
    from websockets.asyncio.client import connect

    async def main() -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        rounds: dict[int, list[float]] = {}  # seq -> [received, first at, last at]
        connections: list[Any] = []
        readers: list[asyncio.Task[None]] = []
        connected = 0
        closing = False

        async def read(ws: Any) -> None:
            try:
                async for raw in ws:
                    if raw.startswith('{"msg":"event'):  # "event", or "events": a burst in one message
                        at = time.monotonic()
                        message = json.loads(raw)
                        for seq in [e["seq"] for e in message["events"]] if "events" in message else [message["seq"]]:
                            entry = rounds.setdefault(seq, [0, at, at])
                            entry[0] += 1
                            entry[2] = at
                            if entry[0] == count:
                                reports.put(("round", index, seq, entry[1], entry[2]))
                                del rounds[seq]
            except Exception:
                pass
            if not closing:
                reports.put(("lost", index, f"{ws.close_code} {ws.close_reason}"))

        async def open_one() -> None:
            nonlocal connected
            for attempt in range(8):
                try:
                    async with gate:
                        ws = await connect(url, ping_interval=None, open_timeout=120, compression=OFFER,
                                           max_size=2**22)
                        await ws.recv()  # hello (with the snapshot, for congress)
                    break
                except Exception as error:
                    if attempt == 7:
                        reports.put(("error", index, repr(error)))
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            connections.append(ws)
            readers.append(loop.create_task(read(ws)))
            connected += 1
            if connected % 50 == 0 or connected == count:
                reports.put(("connected", index, connected))

        await asyncio.gather(*(open_one() for _ in range(count)))
        reports.put(("ready", index, count))
        while await loop.run_in_executor(None, commands.get) == "status":
            waiting = {seq: entry[0] for seq, entry in rounds.items()}
            open_now = sum(1 for ws in connections if ws.close_code is None)
            reports.put(("status", index, f"{open_now}/{count} open, partial rounds {waiting}"))
        closing = True
        await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
        for task in readers:
            task.cancel()
        reports.put(("closed", index, 0))

    uvloop.run(main())


class Observers:
    """N observer connections spread over k processes."""

    def __init__(self, urls: list[str], count: int, procs: int) -> None:
        ctx = mp.get_context("spawn")
        self.reports = ctx.Queue()
        self.commands = [ctx.Queue() for _ in range(procs)]
        shares = [count // procs + (1 if i < count % procs else 0) for i in range(procs)]
        self.processes = [ctx.Process(target=observer_process, daemon=True,
                                      args=(i, urls[i % len(urls)], shares[i], self.commands[i], self.reports))
                          for i in range(procs)]
        self.count = count

    def connect(self, label: str) -> float:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        started = time.monotonic()
        for process in self.processes:
            process.start()
        done = [0] * len(self.processes)
        ready = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True) as progress:
            task = progress.add_task(f"connecting {label}", total=self.count)
            while ready < len(self.processes):
                kind, index, value, *_ = self.reports.get(timeout=600)
                if kind == "connected":
                    done[index] = value
                    progress.update(task, completed=sum(done))
                elif kind == "ready":
                    ready += 1
                elif kind == "error":
                    raise SystemExit(f"observer process {index} could not connect: {value}")
        return time.monotonic() - started

    def wait_round(self) -> tuple[int, float, float]:
        """(seq, first delivery, last delivery) over all processes for one round."""
        try:
            results = [self.reports.get(timeout=120) for _ in self.processes]
        except queue.Empty:
            for commands in self.commands:
                commands.put("status")
            raise SystemExit(f"a round did not complete in 120 s: {self._drain_reports()}") from None
        if not all(r[0] == "round" for r in results):
            raise SystemExit(f"an observer lost its connection: {results}, {self._drain_reports()}")
        seqs = {r[2] for r in results}
        assert len(seqs) == 1, results
        return seqs.pop(), min(r[3] for r in results), max(r[4] for r in results)

    def _drain_reports(self) -> list[Any]:
        seen = []
        with contextlib.suppress(queue.Empty):
            while True:
                seen.append(self.reports.get(timeout=5))
        return seen

    def close(self) -> None:
        for commands in self.commands:
            commands.put("close")
        for process in self.processes:
            process.join(timeout=120)
            if process.is_alive():
                process.kill()


# -- the two runs ----------------------------------------------------------------------------------
@dataclass
class Result:
    server: str
    observers: int
    connect_seconds: float
    kb_per_observer: float
    latencies: list[float]  # seconds, command sent -> last observer has it
    firsts: list[float]  # seconds, command sent -> first observer has it

    def pct(self, p: float) -> float:
        values = sorted(self.latencies)
        k = (len(values) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(values) - 1)
        return values[lo] + (values[hi] - values[lo]) * (k - lo)


def settle(seconds: float = 2.0) -> None:
    time.sleep(seconds)  # presence ticks, handshakes and garbage settle


def measure(servers: list[Server], count: int, procs: int, label: str) -> tuple[Observers, float, float]:
    """Connect N observers; returns them, the seconds it took, and the servers' KB per observer."""
    for server in servers:
        warm = Observers([server.ws_url], WARM_UP, 1)
        warm.connect("warm-up")
        warm.close()
    settle()
    before = sum(rss_kb(server.process.pid) for server in servers)
    observers = Observers([server.ws_url for server in servers], count, procs)
    connect_seconds = observers.connect(f"{count} observers to {label}")
    settle()
    return observers, connect_seconds, (sum(rss_kb(server.process.pid) for server in servers) - before) / count


def run_congress(info: Any, database_url: str, folder: Path, count: int, rounds: int, procs: int,
                 workers: int = 1, redis_url: str | None = None) -> tuple[Result, int, str | None]:
    import httpx
    from websockets.sync.client import connect

    servers = [start_congress(database_url, folder, info.congress_id, redis_url) for _ in range(workers)]
    server = servers[0]  # staff's
    try:
        response = httpx.post(f"http://127.0.0.1:{server.port}/api/sign-in",
                              json={"login": info.staff_login, "password": info.staff_password}, timeout=60)
        response.raise_for_status()
        cookie = f"congress_session={response.cookies['congress_session']}"
        with connect(f"ws://127.0.0.1:{server.port}/ws?congress={info.congress_id}", compression=OFFER,
                     additional_headers={"Cookie": cookie}, max_size=2**24, ping_interval=None,
                     max_queue=None) as staff:  # unbounded: presence piles up while observers connect
            hello = json.loads(staff.recv())
            negotiated = "deflate" if staff.protocol.extensions else None
            items = [item["id"] for item in hello["snapshot"]["agenda"]][:2]
            observers, connect_seconds, kb = measure(servers, count, procs, "congress")
            latencies, firsts, event_size = [], [], 0
            for n in range(rounds):
                # Unique across runs on this database: a resent id is answered from the first result
                # and applies nothing (idempotent commands), so it would publish no event.
                command_id = f"fanout-{count}-{n}-{time.time_ns()}"
                sent = time.monotonic()
                staff.send(json.dumps({"op": "set_current_item", "id": command_id, "item_id": items[n % 2]}))
                published = False
                while True:  # the staff connection's own copy of the event, then the ack
                    message = json.loads(raw := staff.recv(timeout=120))
                    if message.get("msg") == "event":
                        event_size, published = len(raw.encode()), True
                    if message.get("msg") in ("ack", "error") and message.get("id") == command_id:
                        if message["msg"] != "ack" or not published:
                            raise SystemExit(f"round {n}: the command published no event: {message}")
                        break
                _seq, first, last = observers.wait_round()
                latencies.append(last - sent)
                firsts.append(first - sent)
                time.sleep(0.02)
            observers.close()
        name = "congress" if workers == 1 else f"congress, {workers} workers"
        return Result(name, count, connect_seconds, kb, latencies, firsts), event_size, negotiated
    finally:
        for each in servers:
            each.stop()


def run_bare(folder: Path, count: int, rounds: int, procs: int, event_size: int, compression: str | None,
             workers: int = 1) -> Result:
    from websockets.sync.client import connect

    servers = [start_bare(folder, compression) for _ in range(workers)]
    try:
        with contextlib.ExitStack() as stack:
            controls = [stack.enter_context(connect(f"ws://127.0.0.1:{server.port}/control", compression=OFFER,
                                                    ping_interval=None, max_queue=None)) for server in servers]
            observers, connect_seconds, kb = measure(servers, count, procs, "bare websockets")
            latencies, firsts = [], []
            for n in range(rounds):
                message = json.dumps({"msg": "event", "seq": n + 1, "type": "agenda.current_changed",
                                      "payload": {"item_id": 2}, "at": "2026-01-01T00:00:00.000000+00:00"},
                                     separators=(",", ":"))
                message += " " * max(0, event_size - len(message))  # the congress event's size
                sent = time.monotonic()
                for control in controls:
                    control.send(message)
                _seq, first, last = observers.wait_round()
                for control in controls:
                    control.recv()  # ack
                latencies.append(last - sent)
                firsts.append(first - sent)
                time.sleep(0.02)
            observers.close()
        name = "bare websockets" if workers == 1 else f"bare websockets, {workers} processes"
        return Result(name, count, connect_seconds, kb, latencies, firsts)
    finally:
        for server in servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observers", default="1000,4000", help="comma-separated observer counts")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="server processes (more than 1: PostgreSQL + Redis)")
    parser.add_argument("--database-url", help="an empty database for the demo congress (default: a SQLite file)")
    parser.add_argument("--redis-url", help="with --workers > 1")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-compression", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        bare_server(args.bare_server, None if args.bare_compression == "none" else args.bare_compression)
        return 0

    from rich.console import Console
    from rich.table import Table

    from congress.demo.story import build_demo

    console = Console(width=150)
    counts = [int(n) for n in args.observers.split(",")]
    if max(counts) / args.client_procs > 19000:
        raise SystemExit("too many observers per client process: raise --client-procs")
    if args.workers > 1 and not (args.redis_url and args.database_url and args.database_url.startswith("postgresql")):
        raise SystemExit("--workers > 1 needs --database-url postgresql+psycopg://... and --redis-url")
    if args.client_procs % args.workers:
        raise SystemExit("--client-procs must be a multiple of --workers (each process talks to one worker)")
    folder = Path(tempfile.mkdtemp(prefix="congress-fanout-"))
    database_url = args.database_url or f"sqlite:///{folder / 'congress-demo.db'}"
    info = build_demo(database_url)  # what `congress demo --no-serve` builds
    console.print(f"[bold]Fan-out[/bold]: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
                  f"{args.rounds} rounds, {args.client_procs} client processes, {args.workers} server process(es)")
    results: list[tuple[Result, Result]] = []
    for count in counts:
        congress, event_size, negotiated = run_congress(info, database_url, folder, count, args.rounds,
                                                        args.client_procs, args.workers, args.redis_url)
        console.print(f"  congress, {count} observers: p99 {congress.pct(0.99) * 1000:.1f} ms "
                      f"(compression negotiated: {negotiated or 'none'})")
        bare = run_bare(folder, count, args.rounds, args.client_procs, event_size, negotiated, args.workers)
        console.print(f"  bare websockets, {count} observers: p99 {bare.pct(0.99) * 1000:.1f} ms")
        results.append((congress, bare))

    table = Table(title=f"Fan-out of one public event ({event_size} bytes), {args.rounds} rounds, "
                        f"{os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}")
    for column in ("observers", "server", "p50 ms", "p99 ms", "max ms", "first p50 ms", "KB/observer",
                   "connect s", "p99 / bare p99"):
        table.add_column(column, justify="right")
    for congress, bare in results:
        ratio = congress.pct(0.99) / bare.pct(0.99)
        for r in (congress, bare):
            table.add_row(str(r.observers), r.server, f"{r.pct(0.5) * 1000:.1f}", f"{r.pct(0.99) * 1000:.1f}",
                          f"{max(r.latencies) * 1000:.1f}", f"{statistics.median(r.firsts) * 1000:.1f}",
                          f"{r.kb_per_observer:.1f}", f"{r.connect_seconds:.1f}",
                          f"{ratio:.2f}" if r is congress else "")
    console.print(table)
    for congress, bare in results:
        if congress.observers == 4000:
            ratio = congress.pct(0.99) / bare.pct(0.99)
            console.print(f"Targets at 4,000 observers: p99 ratio {ratio:.2f} (target <= 1.5: "
                          f"{'met' if ratio <= 1.5 else 'missed'}); {congress.kb_per_observer:.1f} KB per idle "
                          f"observer (target <= 40: {'met' if congress.kb_per_observer <= 40 else 'missed'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
