"""Benchmark: wrong watch tokens against a delegate's connection, and honest observers joining.

    python bench/watch_flood.py [--db sqlite,postgresql] [--wrong 200] [--observers 200,1000]
    PYTHONPATH=/tmp/old python bench/watch_flood.py      # the same against another checkout (git worktree)

For each database: a fresh database brought to head by the migrations, a congress of 20 delegates
built through the actions, watching set to `token` mode with a 24-character token (the same call
works on versions that hashed it with argon2id and on those that keep an HMAC), and a real
`congress serve` subprocess (one worker). A delegate signs in over HTTP. None of that is measured.

Then, each against the same server:

- quiet: the delegate connects and waits for its hello, 10 times: the baseline;
- flood from one address: `--wrong` websockets with wrong tokens are opened at once from another
  process (all from 127.0.0.1) while the delegate connects and waits for its hello every 0.25 s;
  printed: the delegate's median and worst connect-and-hello during the flood, how long until every
  wrong socket was refused and with which close codes, and the server's CPU seconds (utime + stime
  from /proc) spent meanwhile;
- flood from many addresses: the same, each wrong socket from its own source address
  (127.0.1.1, 127.0.1.2, …), so a per-address throttle never starts: what the check itself costs;
- honest joins: for each N of `--observers`, N observers with the right token connect (64
  handshakes in flight) from another process, all from one address other than the flood's (a
  venue's NAT); printed: the time until the last has its hello, and
  the server's CPU seconds.

Nothing here asserts a time: it is a measurement (docs/performance.md may quote it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# With PYTHONPATH set (another checkout), that checkout's `congress` is the one measured.
if not os.environ.get("PYTHONPATH") and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from scratch_congress import drop_database, new_database, progress, roster_csv  # noqa: E402

import congress  # noqa: E402
from congress.ops.server_process import ServerProcess  # noqa: E402

GROUPS = ["主会场", "长沙", "岳阳"]
DELEGATES = 20
TOKEN = "bench-watch-link-0123456789"[:24]  # 24 characters, as the server makes them
IN_FLIGHT = 64  # honest observers' handshakes in flight
PROBE_EVERY = 0.25
HONEST_ADDRESS = "127.0.9.1"


def build(url: str) -> tuple[int, str, str]:
    """The congress in token mode; returns (congress id, a delegate's 工号, their access code)."""
    from congress.actions.accounts import issue_codes
    from congress.actions.base import Context
    from congress.actions.roster import import_roster
    from congress.actions.setup import create_congress, set_watch
    from congress.db.engine import Database
    from congress.db.migrate import upgrade
    from congress.domain.kinds import Role
    from congress.domain.permissions import Actor

    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            ctx = Context(session, Actor(role=Role.STAFF, name="基准测试"), datetime.now(UTC))
            congress_id = create_congress(ctx, "基准测试：观看口令", GROUPS).id
            import_roster(ctx, congress_id, roster_csv(DELEGATES, GROUPS), "roster.csv")
            employee_id, code = next((c["employee_id"], c["code"]) for c in issue_codes(ctx, congress_id))
            set_watch(ctx, congress_id, "token", token=TOKEN)
    finally:
        db.dispose()
    return congress_id, employee_id, code


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


# ---------------------------------------------------------------- the clients (measured)


def in_process(target: Any, *args: Any) -> tuple[Any, Any]:
    queue: Any = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=_run, args=(target, queue, *args))
    process.start()
    return process, queue


def _run(target: Any, queue: Any, *args: Any) -> None:
    try:
        queue.put(asyncio.run(target(*args)))
    except BaseException as exc:
        queue.put({"error": repr(exc)})


async def _observe(url: str, source: str, gate: asyncio.Semaphore | None) -> tuple[str, float]:
    """One observer: ("hello" or the close code, seconds from start to answer)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    started = time.monotonic()
    try:
        if gate is not None:
            await gate.acquire()
        async with connect(url, open_timeout=600, ping_interval=None, max_size=2**24,
                           local_addr=(source, 0)) as ws:
            first = json.loads(await ws.recv())
            if first["msg"] == "hello":
                return "hello", time.monotonic() - started
            try:
                await ws.recv()
            except ConnectionClosed:
                pass
            return str(ws.close_code), time.monotonic() - started
    except Exception as exc:
        return type(exc).__name__, time.monotonic() - started
    finally:
        if gate is not None:
            gate.release()


async def crowd(ws_url: str, count: int, token: str, source: str | None, in_flight: int) -> dict[str, Any]:
    """`count` observers at once; wrong or right token; all from `source`, or (None) one address each."""
    gate = asyncio.Semaphore(in_flight) if in_flight else None
    started = time.monotonic()
    results = await asyncio.gather(*(
        _observe(f"{ws_url}&watch={token}{'' if token == TOKEN else f'-{n}'}",
                 source or f"127.0.{1 + n // 250}.{1 + n % 250}", gate)
        for n in range(count)))
    return {"seconds": time.monotonic() - started, "outcomes": dict(Counter(r[0] for r in results))}


async def delegate_hello(ws_url: str, cookie: str) -> float:
    from websockets.asyncio.client import connect

    started = time.monotonic()
    async with connect(ws_url, additional_headers={"Cookie": f"congress_session={cookie}"}, open_timeout=600,
                       max_size=2**24, ping_interval=None) as ws:
        message = json.loads(await ws.recv())
        assert message["msg"] == "hello", message
    return time.monotonic() - started


async def probe_while(ws_url: str, cookie: str, done: Any) -> list[float]:
    """The delegate connects every PROBE_EVERY until `done()` (the flood answered), at least once."""
    timings: list[float] = []
    while True:
        timings.append(await delegate_hello(ws_url, cookie))
        if done():
            return timings
        await asyncio.sleep(PROBE_EVERY)


def flood(server: ServerProcess, ws_url: str, cookie: str, wrong: int, spread: bool) -> dict[str, Any]:
    cpu_before = cpu_seconds(server.process.pid)
    process, queue = in_process(crowd, ws_url, wrong, "wrong-token-guess", None if spread else "127.0.0.1", 0)
    time.sleep(0.3)  # the flood's process is up and connecting

    async def measure() -> list[float]:
        return await probe_while(ws_url, cookie, lambda: not process.is_alive() or not queue.empty())

    timings = asyncio.run(measure())
    result = queue.get(timeout=1800)
    process.join()
    return {"delegate": timings, "flood": result, "cpu": cpu_seconds(server.process.pid) - cpu_before}


def run(kind: str, folder: Path, wrong: int, observers: list[int]) -> None:
    url = new_database(kind, folder, "watch")
    server = None
    try:
        progress(f"{kind}: building the congress")
        congress_id, employee_id, code = build(url)
        server = ServerProcess(url, folder / f"server-{kind}.log")
        response = httpx.post(f"{server.url}/api/sign-in", json={"employee_id": employee_id, "code": code,
                                                                 "congress_id": congress_id}, timeout=60)
        response.raise_for_status()
        cookie = response.cookies["congress_session"]
        ws_url = f"{server.ws_url}?congress={congress_id}"
        print(f"\n## {kind} — congress from {Path(congress.__file__).resolve().parent}")

        quiet = asyncio.run(_quiet(ws_url, cookie))
        print(f"quiet: delegate connect-and-hello median {statistics.median(quiet) * 1000:.0f} ms, "
              f"worst {max(quiet) * 1000:.0f} ms (10 connections)")

        for spread in (False, True):
            progress(f"{kind}: {wrong} wrong tokens from {'many addresses' if spread else 'one address'}")
            measured = flood(server, ws_url, cookie, wrong, spread)
            delegate, answered = measured["delegate"], measured["flood"]
            if "error" in answered:
                raise SystemExit(f"flood failed: {answered['error']}")
            print(f"{wrong} wrong tokens from {'200 addresses' if spread else 'one address'}: delegate connect-and-hello "
                  f"median {statistics.median(delegate) * 1000:.0f} ms, worst {max(delegate) * 1000:.0f} ms "
                  f"({len(delegate)} connections); all refused after {answered['seconds']:.1f} s "
                  f"({answered['outcomes']}); server CPU {measured['cpu']:.1f} s")

        for count in observers:
            progress(f"{kind}: {count} honest observers joining")
            cpu_before = cpu_seconds(server.process.pid)
            # from an address of their own (a venue's NAT), not the flood's
            process, queue = in_process(crowd, ws_url, count, TOKEN, HONEST_ADDRESS, IN_FLIGHT)
            joined = queue.get(timeout=3600)
            process.join()
            if "error" in joined:
                raise SystemExit(f"joining failed: {joined['error']}")
            print(f"{count} observers with the right token: all answered in {joined['seconds']:.1f} s "
                  f"({joined['outcomes']}); server CPU {cpu_seconds(server.process.pid) - cpu_before:.1f} s")
    finally:
        if server is not None:
            server.stop()
        drop_database(url)


async def _quiet(ws_url: str, cookie: str) -> list[float]:
    timings = []
    for _ in range(10):
        timings.append(await delegate_hello(ws_url, cookie))
        await asyncio.sleep(0.05)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--wrong", type=int, default=200, help="wrong-token sockets in each flood")
    parser.add_argument("--observers", default="200", help="honest observers joining, e.g. 200,1000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watch-flood-") as folder:
        for kind in args.db.split(","):
            run(kind.strip(), Path(folder), args.wrong, [int(n) for n in args.observers.split(",") if n])


if __name__ == "__main__":
    main()
