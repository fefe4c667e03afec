"""A client process: its share of the observers and delegates, driven by the coordinator.

The coordinator sends one message per phase through a pipe; the worker plays the phase with its
clients and answers with what happened. Progress goes back a few times a second. At the end the
worker checks each of its clients against the truth the coordinator sends (`ledger.check_client`)
and returns counts, not raw streams, so merging stays small.

Messages (coordinator → worker): ``observers``, ``check_in``, ``vote``, ``proposals``, ``storm``,
``sync``, ``finish``; the worker answers each with a message of the same kind.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from congress.client.http import sign_in, ws_url
from congress.rehearsal.client import Peer
from congress.rehearsal.ledger import check_client
from congress.sealed.kit import seal_answers

OPEN_FILES_CEILING = 19_000


@dataclass
class WorkerConfig:
    index: int
    urls: list[str]
    congress_id: int
    observers: list[tuple[int, int]]  # (number, url index)
    delegates: list[dict[str, Any]]  # employee_id, code, url, group_id, is_voting, is_leader, name
    drop_rate: float
    seed: int
    run_id: str
    compression: str | None = "deflate"
    connect_concurrency: int = 48


@dataclass
class DelegateState:
    info: dict[str, Any]
    peer: Peer | None = None
    delegate_id: int | None = None
    checked_in: bool = False
    ballots: dict[int, float] = field(default_factory=dict)  # vote id -> ack time
    got: dict[str, set[Any]] = field(default_factory=dict)  # private event type -> keys received


def worker_main(conn: Connection, config: WorkerConfig) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, OPEN_FILES_CEILING) if hard != resource.RLIM_INFINITY else OPEN_FILES_CEILING
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # the standard loop works, a little slower
        pass
    asyncio.run(Worker(conn, config).main())


class Worker:
    def __init__(self, conn: Connection, config: WorkerConfig) -> None:
        self.conn, self.config = conn, config
        self.rng = random.Random(config.seed * 1000 + config.index)
        self.seq_types: dict[int, str] = {}
        self.observers: list[Peer] = []
        self.delegates: dict[str, DelegateState] = {d["employee_id"]: DelegateState(d) for d in config.delegates}
        self.errors: list[dict[str, Any]] = []
        self.expected_errors = 0
        self.progress: Counter[str] = Counter()
        self.max_open_files = 0
        self.accepting = False
        self.accepts: set[asyncio.Task[None]] = set()
        self.answered: dict[int, tuple[int, asyncio.Future[None]]] = {}  # proposal id -> (accepted count, done)
        self.storm_drop_at = 0.0
        self.storm_peers: list[Peer] = []

    # -- plumbing --------------------------------------------------------------------------------
    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def read_pipe() -> None:
            while True:
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):
                    loop.call_soon_threadsafe(inbox.put_nowait, ("exit", None))
                    return
                loop.call_soon_threadsafe(inbox.put_nowait, message)

        threading.Thread(target=read_pipe, daemon=True).start()
        flusher = loop.create_task(self._flush_progress())
        self.conn.send(("ready", {"at": time.time()}))
        try:
            while True:
                kind, payload = await inbox.get()
                if kind == "exit":
                    break
                handler = getattr(self, f"on_{kind}")
                try:
                    result = await handler(payload)
                except Exception as exc:  # report, do not hang the coordinator
                    result = {"crashed": f"{exc.__class__.__name__}: {exc}"}
                self.conn.send((kind, result))
                if kind == "finish":
                    break
        finally:
            flusher.cancel()

    def tick(self, key: str, n: int = 1) -> None:
        self.progress[key] += n

    async def _flush_progress(self) -> None:
        while True:
            await asyncio.sleep(0.3)
            try:
                self.max_open_files = max(self.max_open_files, len(os.listdir("/proc/self/fd")))
            except OSError:
                pass
            if self.progress:
                sent, self.progress = self.progress, Counter()
                self.conn.send(("progress", dict(sent)))

    def _error(self, who: str, reply: dict[str, Any]) -> None:
        self.errors.append({"who": who, "op": reply.get("op"), "code": reply.get("code"),
                            "message": str(reply.get("message"))[:200]})

    def _ws(self, url_index: int) -> str:
        return ws_url(self.config.urls[url_index % len(self.config.urls)])

    def _alternates(self) -> list[str]:
        return [ws_url(u) for u in self.config.urls]

    def _peers(self) -> list[Peer]:
        return self.observers + [d.peer for d in self.delegates.values() if d.peer is not None]

    # -- observers -------------------------------------------------------------------------------
    async def on_observers(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Open the watch links: at most `connect_concurrency` handshakes in flight, until all are
        connected or the deadline passes (those still trying keep trying, and are checked at the end)."""
        started = time.time()
        deadline = time.monotonic() + float(payload.get("timeout", 600))
        for number, url_index in self.config.observers:
            self.observers.append(Peer("observer", self._ws(url_index), self.config.congress_id,
                                       label=f"observer {number}", compression=self.config.compression,
                                       seq_types=self.seq_types, rng=random.Random(self.rng.random()),
                                       alternates=self._alternates()))
        started_peers: list[Peer] = []
        reported = 0
        for peer in self.observers:
            while time.monotonic() < deadline:
                waiting = sum(not p.connected.is_set() and not p.fatal and not p.failed for p in started_peers)
                if waiting < self.config.connect_concurrency:
                    break
                await asyncio.sleep(0.02)
            peer.start()
            started_peers.append(peer)
            connected = sum(p.connected.is_set() for p in started_peers)
            self.tick("observers", connected - reported)
            reported = connected
        while time.monotonic() < deadline and not all(p.connected.is_set() or p.fatal or p.failed
                                                       for p in self.observers):
            await asyncio.sleep(0.1)
            connected = sum(p.connected.is_set() for p in self.observers)
            self.tick("observers", connected - reported)
            reported = connected
        peers = self.observers
        return {"connected": sum(p.connected.is_set() for p in peers), "seconds": time.time() - started,
                "failed": [f"{p.label}: {p.fatal or p.failed or 'still connecting'}" for p in peers
                           if not p.connected.is_set()][:10]}

    # -- check-in --------------------------------------------------------------------------------
    async def on_check_in(self, _payload: Any) -> dict[str, Any]:
        gate = asyncio.Semaphore(12)
        acks: list[dict[str, Any]] = []
        failures: list[str] = []

        async def one(state: DelegateState) -> None:
            info = state.info
            base = self.config.urls[info["url"] % len(self.config.urls)]
            async with gate:
                t0 = time.time()
                try:
                    session = await asyncio.to_thread(sign_in, base, {"employee_id": info["employee_id"],
                                                                      "code": info["code"],
                                                                      "congress_id": self.config.congress_id})
                except Exception as exc:
                    failures.append(f"{info['employee_id']} sign-in: {exc}")
                    self.errors.append({"who": info["employee_id"], "op": "sign_in", "code": "sign_in_failed",
                                        "message": str(exc)[:200]})
                    return
                signed_in = time.time()
                peer = Peer("delegate", self._ws(info["url"]), self.config.congress_id, cookie=session.cookie,
                            label=info["employee_id"], parse_events=True, compression=self.config.compression,
                            seq_types=self.seq_types, on_event=self._delegate_event,
                            rng=random.Random(self.rng.random()), alternates=self._alternates())
                peer.context = state
                state.peer = peer
                peer.start()
                if not await peer.wait_connected(180):
                    failures.append(f"{info['employee_id']} connect: {peer.fatal or peer.failed}")
                    self.errors.append({"who": info["employee_id"], "op": "connect", "code": "connect_failed",
                                        "message": str(peer.fatal or peer.failed)[:200]})
                    return
                state.delegate_id = peer.hello.get("identity", {}).get("delegate_id")
                connected = time.time()
            reply, sent = await peer.command("check_in", f"{self.config.run_id}-ci-{info['employee_id']}")
            if reply.get("msg") != "ack":
                self._error(info["employee_id"], reply)
                return
            state.checked_in = True
            self.tick("check_in")
            acks.append({"employee_id": info["employee_id"], "present": reply["result"]["attendance"]["present"],
                         "sent": sent, "acked": time.time(), "started": t0, "signed_in": signed_in,
                         "connected": connected})

        await asyncio.gather(*(one(s) for s in self.delegates.values()))
        return {"acks": acks, "failures": failures[:10]}

    def _delegate_event(self, peer: Peer, message: dict[str, Any]) -> None:
        state: DelegateState = peer.context
        if message.get("msg") == "error":  # a reply to nothing we wait for
            self._error(state.info["employee_id"], message)
            return
        etype, payload = message.get("type"), message.get("payload") or {}
        if etype == "ballot.recorded":
            state.got.setdefault(etype, set()).add(payload.get("vote_id"))
        elif etype == "cosign.invited":
            state.got.setdefault(etype, set()).add(payload.get("proposal_id"))
            if self.accepting:
                task = asyncio.get_running_loop().create_task(self._accept(state, int(payload["proposal_id"])))
                self.accepts.add(task)
                task.add_done_callback(self.accepts.discard)
        elif etype == "cosign.answered" and payload.get("accepted"):
            entry = self.answered.get(int(payload["proposal_id"]))
            if entry is not None:
                count, future = entry
                self.answered[int(payload["proposal_id"])] = (count + 1, future)
                if count + 1 >= 2 and not future.done():
                    future.set_result(None)

    # -- votes -----------------------------------------------------------------------------------
    async def on_vote(self, spec: dict[str, Any]) -> dict[str, Any]:
        vote_id, spread = int(spec["vote_id"]), float(spec["spread"])
        sealing = spec.get("sealing_vote")  # a secret vote: each ballot is sealed here, as the phone does

        def ballot(answers: dict[str, Any]) -> dict[str, Any]:
            return {"sealed": seal_answers(sealing, answers)} if sealing else {"answers": answers}
        acks: list[dict[str, Any]] = []
        hand: list[dict[str, Any]] = []
        probes: list[dict[str, Any]] = []
        run = self.config.run_id

        async def cast(employee_id: str, answers: dict[str, Any]) -> None:
            state = self.delegates[employee_id]
            await asyncio.sleep(self.rng.uniform(0, spread))
            assert state.peer is not None
            body = ballot(answers)
            reply, sent = await state.peer.command("cast_ballot", f"{run}-b{vote_id}-{employee_id}",
                                                   vote_id=vote_id, **body)
            if reply.get("msg") == "ack" and reply["result"].get("recorded"):
                state.ballots[vote_id] = time.time()
                acks.append({"employee_id": employee_id, "answers": answers, "sent": sent, "acked": time.time(),
                             "group_id": state.info["group_id"]})
                self.tick(f"vote{vote_id}")
            else:
                self._error(employee_id, reply)

        async def count(employee_id: str, args: dict[str, Any]) -> None:
            state = self.delegates[employee_id]
            await asyncio.sleep(self.rng.uniform(spread * 0.5, spread))
            assert state.peer is not None
            reply, sent = await state.peer.command("enter_group_count", f"{run}-h{vote_id}-{employee_id}",
                                                   vote_id=vote_id, **args)
            if reply.get("msg") == "ack":
                hand.append({"employee_id": employee_id, "group_id": args["group_id"], "args": args,
                             "sent": sent, "acked": time.time()})
                self.tick(f"vote{vote_id}")
            else:
                self._error(employee_id, reply)

        async def probe(who: str, expect: str, answers: dict[str, Any], after: float) -> None:
            """A step the rules must refuse: the refusal is the expected reply."""
            await asyncio.sleep(after)
            if who == "observer":
                peer = next((p for p in self.observers if p.connected.is_set()), None)
            else:
                peer = self.delegates[who].peer
                deadline = time.monotonic() + 300
                while expect == "already_voted" and vote_id not in self.delegates[who].ballots:
                    if time.monotonic() > deadline:  # the first ballot never came back: reported there
                        return
                    await asyncio.sleep(0.1)
            if peer is None:
                return
            reply, _ = await peer.command("cast_ballot", f"{run}-probe{vote_id}-{who}-{expect}", vote_id=vote_id,
                                          **ballot(answers))
            probes.append({"who": who, "expect": expect, "got": reply.get("code") or reply.get("msg")})
            if reply.get("code") == expect:
                self.expected_errors += 1
            else:
                self.errors.append({"who": who, "op": "cast_ballot (probe)", "code": reply.get("code") or "ack",
                                    "message": f"expected the refusal {expect}, got {reply.get('msg')}"})

        async def drops() -> int:
            """Each connection of this process drops once with probability drop_rate during the vote."""
            chosen = [p for p in self._peers() if self.rng.random() < self.config.drop_rate]
            times = sorted((self.rng.uniform(0, spread), i) for i in range(len(chosen)))
            started, done = time.monotonic(), 0
            for at, i in times:
                await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
                done += chosen[i].drop()
            return done

        tasks = [cast(e, a) for e, a in spec["ballots"].items()]
        tasks += [count(e, a) for e, a in spec["hand_counts"].items()]
        tasks += [probe(p["who"], p["expect"], p["answers"], p["after"]) for p in spec.get("probes", [])]
        dropper = asyncio.get_running_loop().create_task(drops()) if spec.get("drop") else None
        await asyncio.gather(*tasks)
        dropped = await dropper if dropper is not None else 0
        return {"acks": acks, "hand": hand, "probes": probes, "drops": dropped}

    # -- proposals -------------------------------------------------------------------------------
    async def _accept(self, state: DelegateState, proposal_id: int) -> None:
        assert state.peer is not None
        reply, _ = await state.peer.command("answer_cosign", f"{self.config.run_id}-cs{proposal_id}-"
                                            f"{state.info['employee_id']}", proposal_id=proposal_id, accept=True)
        if reply.get("msg") != "ack":
            self._error(state.info["employee_id"], reply)
        else:
            self.tick("cosigned")

    async def on_proposals(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.accepting = True
        gate = asyncio.Semaphore(int(payload.get("concurrency", 12)))
        filed: list[dict[str, Any]] = []
        run = self.config.run_id

        async def one(spec: dict[str, Any]) -> None:
            state = self.delegates[spec["proposer"]]
            peer = state.peer
            assert peer is not None
            async with gate:
                reply, _ = await peer.command("draft_proposal", f"{run}-d-{spec['key']}", title=spec["title"],
                                              reason=spec["reason"], suggestion=spec["suggestion"])
                if reply.get("msg") != "ack":
                    self._error(spec["proposer"], reply)
                    return
                pid = int(reply["result"]["id"])
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.answered[pid] = (0, done)
                reply, _ = await peer.command("invite_cosigners", f"{run}-i-{spec['key']}", proposal_id=pid,
                                              employee_ids=spec["cosigners"])
                if reply.get("msg") != "ack":
                    self._error(spec["proposer"], reply)
                    return
                try:
                    await asyncio.wait_for(done, 180)
                except TimeoutError:
                    self.errors.append({"who": spec["proposer"], "op": "answer_cosign", "code": "rehearsal_timeout",
                                        "message": f"proposal {pid}: co-signers' answers did not arrive"})
                    return
                reply, sent = await peer.command("submit_proposal", f"{run}-s-{spec['key']}", proposal_id=pid)
                if reply.get("msg") != "ack":
                    self._error(spec["proposer"], reply)
                    return
                filed.append({"key": spec["key"], "proposal_id": pid, "sent": sent, "acked": time.time(),
                              "status": reply["result"].get("status"), "number": reply["result"].get("number")})
                self.tick("proposals")

        await asyncio.gather(*(one(s) for s in payload["specs"]))
        return {"filed": filed}

    # -- reconnect storm -------------------------------------------------------------------------
    async def on_storm(self, _payload: Any) -> dict[str, Any]:
        self.storm_drop_at = time.time()
        self.storm_peers = [p for p in self.observers if p.drop()]
        return {"at": self.storm_drop_at, "dropped": len(self.storm_peers)}

    async def on_storm_wait(self, payload: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + float(payload.get("timeout", 120))
        at = self.storm_drop_at
        waiting = self.storm_peers
        while time.monotonic() < deadline:
            left = [p for p in waiting if not (p.synced_at > at and p.connected.is_set())]
            if not left:
                break
            await asyncio.sleep(0.05)
        synced = [p.synced_at - at for p in waiting if p.synced_at > at]
        return {"at": at, "observers": len(waiting), "synced": synced,
                "snapshot_fallbacks": sum(p.snapshot_fallbacks for p in waiting)}

    # -- the end ---------------------------------------------------------------------------------
    async def on_sync(self, payload: dict[str, Any]) -> dict[str, Any]:
        target, timeout = int(payload["seq"]), float(payload.get("timeout", 120))
        peers = [p for p in self._peers() if not p.fatal]
        results = await asyncio.gather(*(p.wait_seq(target, timeout) for p in peers))
        since = float(payload.get("outages_since") or 0)  # a fault's start: the connections it cost
        return {"behind": [f"{p.label} at {p.seq}" for p, ok in zip(peers, results, strict=True) if not ok][:10],
                "count": sum(not ok for ok in results),
                "outages": [[lost, back] for p in peers for lost, back in p.outages if since and lost >= since],
                "away": sum(p.away for p in peers),
                "retried": sum(p.retried for p in peers), "moved": sum(p.moved for p in peers)}

    async def on_finish(self, truth: dict[str, Any]) -> dict[str, Any]:
        await asyncio.gather(*(p.close() for p in self._peers()), return_exceptions=True)
        await asyncio.gather(*self.accepts, return_exceptions=True)
        public: list[int] = truth["public"]
        public_set = set(public)
        marker: int = truth["marker"]
        staff_types: dict[int, str] = truth["types"]
        causes: dict[int, float] = truth["causes"]
        event_at: dict[int, float] = truth["at"]
        group_events: dict[int, int] = truth["group_events"]
        checked_in: dict[int, int] = truth["checked_in"]
        totals: Counter[str] = Counter()
        examples: list[str] = []
        latency: dict[str, Counter[int]] = {}
        latency_max: dict[str, float] = {}
        fanout: dict[str, Counter[int]] = {}  # by type: the event's server time -> observer received
        fanout_max = 0.0
        for peer in self._peers():
            observer = peer.kind == "observer"
            private: list[int] = []
            state: DelegateState | None = peer.context
            if state is not None:
                gid = state.info["group_id"]
                private = [s for s, g in group_events.items() if g == gid]
                private += [s for s, d in checked_in.items() if d == state.delegate_id]
                missing_ballot_events = [v for v in state.ballots if v not in state.got.get("ballot.recorded", set())]
                if missing_ballot_events and not peer.snapshot_fallbacks:
                    totals["lost"] += len(missing_ballot_events)
                    examples.append(f"{peer.label}: no ballot.recorded for votes {missing_ballot_events}")
            check = check_client(peer.seqs, peer.intervals, public, public_set, marker, staff_types,
                                 observer=observer, private=private)
            totals["clients"] += 1
            totals["expected"] += check["expected"]
            totals["lost"] += len(check["lost"])
            totals["duplicated"] += check["duplicated"]
            totals["leaked"] += len(check["leaked"])
            totals["unknown"] += len(check["unknown"])
            totals["order_violations"] += peer.order_violations
            totals["snapshot_fallbacks"] += peer.snapshot_fallbacks
            totals["resumes"] += peer.resumes
            totals["planned_drops"] += peer.planned_drops
            totals["resends"] += peer.resends
            totals["connect_failures"] += peer.connect_failures
            totals["failed_clients"] += bool(peer.failed or peer.fatal)
            totals["never_connected"] += not peer.intervals
            for reason, n in peer.closes.items():
                totals[f"close {reason}"] += n
            if check["lost"] or check["duplicated"] or check["leaked"] or peer.fatal or peer.failed:
                if len(examples) < 20:
                    examples.append(f"{peer.label}: lost {check['lost'][:5]} dup {check['duplicated_seqs']} "
                                    f"leaked {check['leaked'][:5]} {peer.fatal or peer.failed or ''}".strip())
            if observer:
                live, times = peer.live, peer.times
                for i, seq in enumerate(peer.seqs):
                    if not live[i]:
                        totals["backlog_deliveries"] += 1
                        continue
                    totals["live_deliveries"] += 1
                    etype = staff_types.get(seq, "?")
                    at = event_at.get(seq)
                    if at is not None:
                        ms = (times[i] - at) * 1000.0
                        fanout.setdefault(etype, Counter())[max(0, int(ms))] += 1
                        fanout_max = max(fanout_max, ms)
                    sent = causes.get(seq)
                    if sent is None:
                        continue
                    ms = (times[i] - sent) * 1000.0
                    latency.setdefault(etype, Counter())[max(0, int(ms))] += 1
                    latency_max[etype] = max(latency_max.get(etype, 0.0), ms)
        conflicts = [(s, t, staff_types.get(s)) for s, t in self.seq_types.items()
                     if staff_types.get(s) is not None and staff_types.get(s) != t]
        conflicts += [c for p in self._peers() for c in p.type_conflicts]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "totals": dict(totals), "examples": examples, "type_conflicts": conflicts[:10],
            "type_conflict_count": len(conflicts),
            "latency": {k: dict(v) for k, v in latency.items()}, "latency_max": latency_max,
            "fanout": {k: dict(v) for k, v in fanout.items()}, "fanout_max": fanout_max,
            "resync_seconds": [s for p in self._peers() for s in p.resync_seconds],
            "errors": self.errors, "expected_errors": self.expected_errors,
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024,
            "max_open_files": self.max_open_files,
        }
