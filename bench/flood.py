"""Benchmark: one delegate floods `draft_proposal` while 20 others go about their business.

    python bench/flood.py [--db sqlite,postgresql] [--seconds 10] [--others 20]
    PYTHONPATH=/tmp/old python bench/flood.py      # the same against another checkout (git worktree)

For each database: a fresh database brought to head by the migrations, a congress of 40 voting
delegates built through the actions, a real `congress serve` subprocess (one worker), everyone signed
in over HTTP and each of the 20 "others" given one draft. None of that is measured.

Then three phases of `--seconds` each, every one with the same 20 others, each on its own
websocket, sending a command every 0.25 s (a read, `proposal_board`, then a write, `edit_proposal`
of their draft, in turn) and timing each from send to reply:

- quiet: nobody floods (the others' baseline);
- http: a fresh delegate floods POST …/commands/draft_proposal from 10 concurrent keep-alive
  connections, as fast as the server answers, ignoring 429 and Retry-After;
- ws: another fresh delegate floods over 10 websockets (4 commands in flight on each), opening a
  new socket whenever the server closes one.

Printed per phase: the flood's requests, how many were accepted (a draft created) and how the rest
were refused; the others' commands, their median and p95 latency, and any of theirs refused.
Nothing here asserts a time: it is a measurement (docs/api.md, "Rate budget").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# With PYTHONPATH set (another checkout), that checkout's `congress` is the one measured.
if not os.environ.get("PYTHONPATH") and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from scratch_congress import GROUPS, drop_database, new_database, progress, roster_csv  # noqa: E402

import congress  # noqa: E402
from congress.ops.server_process import ServerProcess  # noqa: E402

DELEGATES = 40
PERIOD = 0.25  # seconds between one of the others' commands
FLOOD_CONNECTIONS = 10
IN_FLIGHT = 4  # per flooding websocket


def build(url: str) -> tuple[int, list[tuple[str, str]]]:
    from congress.actions.accounts import issue_codes
    from congress.actions.base import Context
    from congress.actions.roster import import_roster
    from congress.actions.setup import create_congress
    from congress.db.engine import Database
    from congress.db.migrate import upgrade
    from congress.domain.kinds import Role
    from congress.domain.permissions import Actor

    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            ctx = Context(session, Actor(role=Role.STAFF, name="基准测试"), datetime.now(UTC))
            congress_id = create_congress(ctx, "基准测试：灌水", GROUPS).id
            import_roster(ctx, congress_id, roster_csv(DELEGATES), "roster.csv")
            codes = [(c["employee_id"], c["code"]) for c in issue_codes(ctx, congress_id)]
    finally:
        db.dispose()
    return congress_id, codes


@dataclass
class Person:
    cookie: str
    csrf: str
    draft_id: int | None = None


def sign_in(url: str, congress_id: int, employee_id: str, code: str) -> Person:
    response = httpx.post(f"{url}/api/sign-in", json={"employee_id": employee_id, "code": code,
                                                      "congress_id": congress_id}, timeout=60)
    response.raise_for_status()
    return Person(response.cookies["congress_session"], response.json()["csrf_token"])


def post(url: str, congress_id: int, person: Person, op: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/congresses/{congress_id}/commands/{op}", json=body, timeout=60,
                      cookies={"congress_session": person.cookie}, headers={"x-csrf-token": person.csrf})


# ---------------------------------------------------------------- the clients (measured)


def in_process(target: Any, *args: Any) -> Any:
    queue: Any = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=_run, args=(target, queue, *args))
    process.start()
    return process, queue


def _run(target: Any, queue: Any, *args: Any) -> None:
    try:
        queue.put(asyncio.run(target(*args)))
    except BaseException as exc:
        queue.put({"error": repr(exc)})


async def others(ws_url: str, people: list[Person], start_at: float, seconds: float) -> dict[str, Any]:
    """Each person on one socket: a command every PERIOD, alternating a read and a write."""
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    refused: Counter[str] = Counter()

    async def one(n: int, person: Person) -> None:
        async with connect(ws_url, additional_headers={"Cookie": f"congress_session={person.cookie}"},
                           max_size=2**24, ping_interval=None, open_timeout=60) as ws:
            assert json.loads(await ws.recv())["msg"] == "hello"
            waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

            async def read() -> None:
                async for raw in ws:
                    if raw.startswith('{"msg":"ack"') or raw.startswith('{"msg":"error"'):
                        message = json.loads(raw)
                        future = waiting.pop(message.get("id") or "", None)
                        if future is not None and not future.done():
                            future.set_result(message)

            reader = asyncio.get_running_loop().create_task(read())
            await asyncio.sleep(max(0.0, start_at - time.monotonic()) + n * PERIOD / len(people))
            i = 0
            while time.monotonic() < start_at + seconds:
                i += 1
                command_id = f"o{n}-{i}-{uuid.uuid4().hex[:6]}"
                frame = {"op": "proposal_board", "id": command_id} if i % 2 else {
                    "op": "edit_proposal", "id": command_id, "proposal_id": person.draft_id,
                    "title": f"关于食堂的建议（第 {i} 稿）", "reason": "案由", "suggestion": "建议"}
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                waiting[command_id] = future
                sent = time.monotonic()
                await ws.send(json.dumps(frame, ensure_ascii=False))
                reply = await asyncio.wait_for(future, 60)
                latencies.append(time.monotonic() - sent)
                if reply["msg"] != "ack":
                    refused[reply["code"]] += 1
                await asyncio.sleep(max(0.0, PERIOD - (time.monotonic() - sent)))
            reader.cancel()

    await asyncio.gather(*(one(n, p) for n, p in enumerate(people)))
    return {"latencies": latencies, "refused": dict(refused)}


async def flood_http(url: str, congress_id: int, person: Person, start_at: float, seconds: float) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=FLOOD_CONNECTIONS, max_keepalive_connections=FLOOD_CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60,
                                 cookies={"congress_session": person.cookie},
                                 headers={"x-csrf-token": person.csrf}) as http:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))

        async def worker(w: int) -> None:
            n = 0
            while time.monotonic() < start_at + seconds:
                n += 1
                response = await http.post(f"/api/congresses/{congress_id}/commands/draft_proposal",
                                           json={"title": f"灌水 {w}-{n}", "reason": "案由", "suggestion": "建议"})
                outcomes["accepted" if response.status_code == 200 else response.json()["error"]["code"]] += 1

        await asyncio.gather(*(worker(w) for w in range(FLOOD_CONNECTIONS)))
    return {"outcomes": dict(outcomes)}


async def flood_ws(ws_url: str, person: Person, start_at: float, seconds: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    outcomes: Counter[str] = Counter()
    closes = 0
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))

    async def socket(w: int) -> None:
        nonlocal closes
        n = 0
        while time.monotonic() < start_at + seconds:
            try:
                async with connect(ws_url, additional_headers={"Cookie": f"congress_session={person.cookie}"},
                                   max_size=2**24, ping_interval=None, open_timeout=60) as ws:
                    await ws.recv()  # hello
                    in_flight = 0
                    while time.monotonic() < start_at + seconds:
                        while in_flight < IN_FLIGHT:
                            n += 1
                            await ws.send(json.dumps({"op": "draft_proposal", "id": f"f{w}-{n}", "title": f"灌水 {w}-{n}",
                                                      "reason": "案由", "suggestion": "建议"}, ensure_ascii=False))
                            in_flight += 1
                        raw = await asyncio.wait_for(ws.recv(), 60)
                        if raw.startswith('{"msg":"ack"') or raw.startswith('{"msg":"error"'):
                            message = json.loads(raw)
                            outcomes["accepted" if message["msg"] == "ack" else message["code"]] += 1
                            in_flight -= 1
            except ConnectionClosed:
                closes += 1

    await asyncio.gather(*(socket(w) for w in range(FLOOD_CONNECTIONS)))
    return {"outcomes": dict(outcomes), "closed_by_server": closes}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


# ---------------------------------------------------------------- one database


def run(kind: str, seconds: float, n_others: int, folder: Path) -> list[dict[str, Any]]:
    progress(f"{kind}: building the congress")
    url = new_database(kind, folder, "flood")
    try:
        congress_id, codes = build(url)
        server = ServerProcess(url, folder / f"server-{kind}.log")
        try:
            progress(f"{kind}: signing in")
            people = [sign_in(server.url, congress_id, e, c) for e, c in codes[:n_others + 2]]
            http_flooder, ws_flooder, crowd = people[0], people[1], people[2:]
            for person in crowd:
                reply = post(server.url, congress_id, person, "draft_proposal", title="关于食堂的建议",
                             reason="案由", suggestion="建议")
                reply.raise_for_status()
                person.draft_id = reply.json()["result"]["id"]
                time.sleep(0.1)  # setup at a human pace (the budget is per person; this is not measured)
            ws_url = f"{server.ws_url}?congress={congress_id}"
            rows = []
            for phase in ("quiet", "http", "ws"):
                progress(f"{kind}: {phase} for {seconds:g} s")
                start_at = time.monotonic() + 3.0  # the processes start (spawn) before the phase
                crowd_process, crowd_queue = in_process(others, ws_url, crowd, start_at, seconds)
                flood = None
                if phase == "http":
                    flood = in_process(flood_http, server.url, congress_id, http_flooder, start_at, seconds)
                elif phase == "ws":
                    flood = in_process(flood_ws, ws_url, ws_flooder, start_at, seconds)
                crowd_result = crowd_queue.get(timeout=seconds + 120)
                flood_result = flood[1].get(timeout=seconds + 120) if flood else {"outcomes": {}}
                for process in (crowd_process, *([flood[0]] if flood else [])):
                    process.join(30)
                for result in (crowd_result, flood_result):
                    if "error" in result:
                        raise RuntimeError(f"{phase}: {result['error']}")
                outcomes = flood_result["outcomes"]
                lat = crowd_result["latencies"]
                rows.append({"db": kind, "phase": phase, "flood": sum(outcomes.values()),
                             "accepted": outcomes.get("accepted", 0),
                             "refused": {k: v for k, v in outcomes.items() if k != "accepted"},
                             "closed": flood_result.get("closed_by_server", 0),
                             "others": len(lat), "p50": percentile(lat, 0.5) * 1000, "p95": percentile(lat, 0.95) * 1000,
                             "others_refused": crowd_result["refused"]})
                time.sleep(2.0)  # the flooders' buckets refill; the server settles
            return rows
        finally:
            server.stop()
    finally:
        drop_database(url)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| database | flood | flood requests | accepted (drafts) | refused | sockets closed | others' commands | others p50 ms | others p95 ms | others refused |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(r["refused"].items())) or "—"
        lines.append(f"| {r['db']} | {r['phase']} | {r['flood']} | {r['accepted']} | {refused} | {r['closed']} | "
                     f"{r['others']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['others_refused'] or '—'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--others", type=int, default=20, help="delegates going about their business")
    args = parser.parse_args()
    print(f"congress from {Path(congress.__file__).parent}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            rows += run(kind.strip(), args.seconds, args.others, Path(tmp))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
