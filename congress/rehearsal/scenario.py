"""The coordinator: sets the rehearsal up, plays the day phase by phase, merges what the clients saw.

Staff act from this process (over HTTP for setup, over one websocket for the day, which is also
the staff ledger); delegates and observers live in worker processes (`worker.py`). Every staff
step first reads the congress back and refuses to act unless its snapshot says it is a rehearsal.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from congress.rehearsal.client import Peer
from congress.rehearsal.faults import FaultPlan, FaultRun, summarise
from congress.rehearsal.http import StaffHttp, ws_url
from congress.rehearsal.ledger import PublicLog, StaffLedger
from congress.rehearsal.procstat import Sampler, local_server_pids
from congress.rehearsal.roster import Plan, choose, make_plan, proposal_specs, roster_csv, vote_specs
from congress.rehearsal.worker import OPEN_FILES_CEILING, WorkerConfig, worker_main
from congress.sealed.trustees import new_seed
from congress.trustee import TrusteeHttp

SCRUTINEER = "演练总监票人"
BUSY_PROCESS = 2_500  # connections one client process serves without its own queue showing in the figures
PER_PROCESS = OPEN_FILES_CEILING - 1_000  # connections one client process holds at most (its open files)
STORM_WAIT_SECONDS = 300  # how long the storm is timed; observers still away are checked at the end


@dataclass
class Options:
    urls: list[str]
    staff_login: str
    staff_password: str
    delegates: int = 295
    groups: int = 7
    observers: int = 4000
    proposals: int = 273
    hand_counted_groups: int = 1
    drop_rate: float = 0.05
    votes: int = 3
    department: str = "演练承办部门"
    server_pids: list[int] = field(default_factory=list)
    reconnect_storm: bool = False
    processes: int | None = None
    seed: int = 2020
    vote_spread: float = 8.0  # seconds over which the delegates' ballots arrive
    compression: bool = True  # offer permessage-deflate, as browsers do
    name: str | None = None
    connect_timeout: float = 600.0  # seconds the observers may take to connect
    fault: FaultPlan | None = None  # injected during the first vote (rehearsal/faults.py)


class UI(Protocol):
    def phase(self, key: str, title: str, total: int | None) -> None: ...
    def advance(self, key: str, n: int) -> None: ...
    def done(self, key: str, summary: str) -> None: ...
    def note(self, text: str) -> None: ...


class RehearsalAborted(RuntimeError):
    pass


@dataclass
class WorkerHandle:
    index: int
    process: Any
    conn: Any
    replies: asyncio.Queue[tuple[str, Any]]
    employee_ids: set[str]


class Coordinator:
    def __init__(self, options: Options, ui: UI) -> None:
        self.o, self.ui = options, ui
        self.run_id = uuid.uuid4().hex[:8]
        self.rng = random.Random(options.seed)
        self.compression = "deflate" if options.compression else None
        self.ledger = StaffLedger()
        self.causes: dict[tuple[str, Any], float] = {}
        self.errors: list[dict[str, Any]] = []
        self.expected_errors = 0
        self.workers: list[WorkerHandle] = []
        self.staff: Peer | None = None
        self.http: StaffHttp | None = None
        self.congress_id = 0
        self.report: dict[str, Any] = {}
        self._n = 0
        self.fault = FaultRun(options.fault) if options.fault is not None else None
        self.fault_probe: dict[str, Any] | None = None
        self.fault_acks: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------------
    async def guard(self) -> None:
        assert self.http is not None
        await asyncio.to_thread(self.http.guard, self.congress_id)

    async def staff_reply(self, op: str, cause: tuple[str, Any] | None = None, **args: Any) -> dict[str, Any]:
        """One staff command over the staff connection; the reply (ack or error)."""
        assert self.staff is not None
        self._n += 1
        reply, sent = await self.staff.command(op, f"{self.run_id}-st{self._n}", **args)
        if cause is not None and reply.get("msg") == "ack":
            self.causes[cause] = sent
        return reply

    async def staff_command(self, op: str, cause: tuple[str, Any] | None = None, **args: Any) -> dict[str, Any] | None:
        """As staff_reply; an error is recorded as unexpected and None returned."""
        reply = await self.staff_reply(op, cause, **args)
        if reply.get("msg") != "ack":
            self.errors.append({"who": "staff", "op": op, "code": reply.get("code"),
                                "message": str(reply.get("message"))[:200]})
            return None
        return reply["result"]

    async def ask_all(self, kind: str, payloads: list[Any] | None = None, common: Any = None) -> list[Any]:
        for i, w in enumerate(self.workers):
            w.conn.send((kind, payloads[i] if payloads is not None else common))
        results = []
        for w in self.workers:
            got_kind, result = await w.replies.get()
            if got_kind == "dead":
                raise RehearsalAborted(f"client process {w.index} died")
            if isinstance(result, dict) and "crashed" in result:
                raise RehearsalAborted(f"client process {w.index} failed in {kind}: {result['crashed']}")
            results.append(result)
        return results

    def _start_workers(self, plan: Plan, codes: dict[str, str], group_ids: dict[str, int]) -> None:
        o = self.o
        clients = o.observers + len(plan.people)
        count = o.processes or client_processes(clients, os.cpu_count() or 2)
        count = max(1, min(count, max(1, clients)))
        observers: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        for n in range(o.observers):
            observers[n % count].append((n + 1, n % len(o.urls)))
        delegates: list[list[dict[str, Any]]] = [[] for _ in range(count)]
        for k, p in enumerate(plan.people):
            delegates[k % count].append({"employee_id": p.employee_id, "code": codes[p.employee_id],
                                         "url": (k + 1) % len(o.urls), "group_id": group_ids[p.group],
                                         "is_voting": p.is_voting, "is_leader": p.is_leader, "name": p.name})
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for i in range(count):
            parent, child = context.Pipe()
            config = WorkerConfig(i, o.urls, self.congress_id, observers[i], delegates[i], o.drop_rate, o.seed,
                                  self.run_id, self.compression)
            process = context.Process(target=worker_main, args=(child, config), daemon=True,
                                      name=f"rehearsal-clients-{i}")
            process.start()
            child.close()
            handle = WorkerHandle(i, process, parent, asyncio.Queue(), {d["employee_id"] for d in delegates[i]})
            self.workers.append(handle)
            threading.Thread(target=self._pipe_reader, args=(handle, loop), daemon=True).start()

    def _pipe_reader(self, handle: WorkerHandle, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                kind, payload = handle.conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(handle.replies.put_nowait, ("dead", None))
                return
            if kind == "progress":
                for key, n in payload.items():
                    loop.call_soon_threadsafe(self.ui.advance, key, n)
            else:
                loop.call_soon_threadsafe(handle.replies.put_nowait, (kind, payload))

    def owner(self, employee_id: str) -> int:
        return next(w.index for w in self.workers if employee_id in w.employee_ids)

    # -- the day ---------------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        o = self.o
        started = time.time()
        r = self.report
        r["target"] = {"urls": o.urls}
        plan = make_plan(o.delegates, o.groups, o.hand_counted_groups, seed=o.seed)
        self.ui.phase("setup", "准备演练 setup", None)
        self.http = await asyncio.to_thread(StaffHttp, o.urls[0], o.staff_login, o.staff_password)
        name = o.name or f"职代会演练 {datetime.now():%Y-%m-%d %H:%M:%S} ({self.run_id})"
        created = await asyncio.to_thread(self.http.create_congress, name, plan.groups)
        self.congress_id = int(created["id"])
        group_ids = {g["name"]: int(g["id"]) for g in created["groups"]}
        r["target"].update(congress_id=self.congress_id, name=name, is_rehearsal=True)
        roster = await asyncio.to_thread(self.http.import_roster, self.congress_id, roster_csv(plan))
        codes = {c["employee_id"]: c["code"] for c in
                 await asyncio.to_thread(self.http.issue_codes, self.congress_id)}
        specs = vote_specs(o.votes)
        items = []
        review = await asyncio.to_thread(self.http.command, self.congress_id, "add_agenda_item", kind="审议",
                                         title="审议公司工作报告和财务工作报告")
        for spec in specs:
            item = await asyncio.to_thread(self.http.command, self.congress_id, "add_agenda_item",
                                           kind=spec.agenda_kind, title=spec.title)
            items.append(int(item["id"]))
        self.trustees: list[tuple[TrusteeHttp, bytes]] = []
        self.sealing_key: str | None = None
        if any(spec.is_secret for spec in specs):
            self.ui.phase("trustees", "监票人生成密钥 trustees' key", None)
            await asyncio.to_thread(self._make_trustee_key, plan, codes)
            self.ui.done("trustees", f"3 trustees, 2 needed to decrypt; key {self.sealing_key[:16]}…")
        r["scale"] = {"delegates": len(plan.people), "voting": roster["voting"], "non_voting": roster["non_voting"],
                      "groups": len(plan.groups), "hand_counted_groups": plan.hand_counted,
                      "observers": o.observers, "proposals": o.proposals, "votes": len(specs),
                      "drop_rate": o.drop_rate, "urls": len(o.urls)}

        self.staff = Peer("staff", ws_url(o.urls[0]), self.congress_id, cookie=self.http.session.cookie,
                          label="staff", parse_events=True, compression=self.compression,
                          on_event=self.ledger.record, alternates=[ws_url(u) for u in o.urls])
        self.staff.start()
        if not await self.staff.wait_connected(120):
            raise RehearsalAborted(f"staff could not connect: {self.staff.fatal or self.staff.failed}")
        ledger_start = self.staff.intervals[0][0]
        log = PublicLog(ws_url(o.urls[0]), self.congress_id, self.compression)
        stop_reading = asyncio.Event()
        reader = asyncio.get_running_loop().create_task(log.follow(stop_reading))
        pids = o.server_pids or await asyncio.to_thread(local_server_pids, o.urls)
        sampler = Sampler(pids).start()
        self.ui.done("setup", f"congress {self.congress_id}: {roster['voting']} voting + {roster['non_voting']} "
                              f"non-voting in {len(plan.groups)} groups; server pids {pids or 'not local'}")
        spawned = time.time()
        self._start_workers(plan, codes, group_ids)
        for w in self.workers:
            kind, _ = await w.replies.get()
            if kind != "ready":
                raise RehearsalAborted(f"client process {w.index} did not start")
        r["clients"] = {"processes": len(self.workers), "start_seconds": round(time.time() - spawned, 2)}
        phases: dict[str, tuple[float, float]] = {}
        aborted: BaseException | None = None
        try:
            # Observers follow the watch link (no sign-in)
            t = time.monotonic()
            self.ui.phase("observers", "观众连接 observers", o.observers)
            answers = await self.ask_all("observers", common={"timeout": o.connect_timeout})
            connected = sum(a["connected"] for a in answers)
            r["observers"] = {"connected": connected, "of": o.observers,
                              "seconds": round(max(a["seconds"] for a in answers), 2),
                              "failed": [f for a in answers for f in a["failed"]][:10]}
            self.ui.done("observers", f"{connected}/{o.observers} connected in {r['observers']['seconds']} s")
            phases["observers"] = (t, time.monotonic())

            # Check-in: delegates sign in with their codes, connect, check in
            await self.guard()
            t = time.monotonic()
            self.ui.phase("check_in", "签到 check-in", len(plan.people))
            began = time.time()
            answers = await self.ask_all("check_in")
            acks = [a for ans in answers for a in ans["acks"]]
            for a in acks:
                self.causes[("attendance.changed", a["present"])] = a["sent"]
            checked_in = {a["employee_id"] for a in acks}
            last = max((a["acked"] for a in acks), default=began)
            r["check_in"] = {
                "checked_in": len(acks), "of": len(plan.people),
                "seconds": round(last - began, 2),
                "sign_in_p50_ms": _pct([1000 * (a["signed_in"] - a["started"]) for a in acks], 50),
                "check_in_ack_p50_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 50),
                "check_in_ack_p99_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 99),
                "failures": [f for ans in answers for f in ans["failures"]][:10],
            }
            self.ui.done("check_in", f"{len(acks)}/{len(plan.people)} checked in in {r['check_in']['seconds']} s")
            phases["check_in"] = (t, time.monotonic())

            # Votes
            r["votes"] = []
            for number, (spec, item_id) in enumerate(zip(specs, items, strict=True)):
                t = time.monotonic()
                r["votes"].append(await self.vote(number, spec, item_id, plan, group_ids, checked_in))
                phases[f"vote {number + 1}"] = (t, time.monotonic())

            # Proposals: filed with co-signers, then triaged
            if o.proposals:
                t = time.monotonic()
                r["proposals"] = await self.proposals(plan)
                phases["proposals"] = (t, time.monotonic())

            if o.reconnect_storm:
                t = time.monotonic()
                r["storm"] = await self.storm()
                phases["storm"] = (t, time.monotonic())

            # The end: one last public event every client must reach
            self.ui.phase("final", "核对 verifying", None)
            await self.guard()
            before = max(self.ledger.types, default=0)
            # Back to the review item (never current before): a public event with a known key
            await self.staff_command("set_current_item", cause=("agenda.current_changed", int(review["id"])),
                                     item_id=int(review["id"]))
            marker = await self._ledger_seq("agenda.current_changed", int(review["id"]), after=before)
            fault_since = self.fault.started_at if self.fault is not None else None
            synced = await self.ask_all("sync", common={"seq": marker, "timeout": 120, "outages_since": fault_since})
            await self.staff.wait_seq(marker, 60)
            stop_reading.set()
            await reader
            await log.read_to(marker)
            truth = self._truth(log, marker)
            results = await self.ask_all("finish", common=truth)
        except (RehearsalAborted, OSError) as failure:
            # The target stopped answering (or a client process died): report what was measured.
            aborted = failure
        except asyncio.CancelledError:  # interrupted (Ctrl-C, SIGTERM): still report what was measured
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            aborted = RehearsalAborted("interrupted")
        finally:
            stop_reading.set()
            sampler.stop()
            await self._stop_workers(graceful=aborted is None)
            if self.staff is not None:
                await self.staff.close()
        if aborted is None:
            self._merge(results, synced, truth, log, ledger_start, marker)
            if self.fault is not None:
                self._fault_report(synced)
        else:
            r["aborted"] = f"{aborted.__class__.__name__}: {aborted}"
            r["errors"] = {"unexpected": len(self.errors), "by_code": dict(Counter(e["code"] for e in self.errors)),
                           "expected_refusals": self.expected_errors, "examples": self.errors[:10]}
            r["problems"] = [f"aborted: {r['aborted']} (integrity and tallies not checked)"]
            if self.fault is not None:
                r["faults"] = [{"fault": f"{self.fault.plan.kind}:{self.fault.plan.mode}", **self.fault.details,
                                "problems": self.fault.problems}]
            r["ok"] = False
        r["server"] = sampler.summary()
        r["machine"] = sampler.machine()
        if sampler.pids:
            r["server"]["phases"] = {name: sampler.phase_cpu(a, b) for name, (a, b) in phases.items()}
        r["duration_seconds"] = round(time.time() - started, 1)
        self.ui.done("final", "done")
        return r

    def _make_trustee_key(self, plan: Plan, codes: dict[str, str]) -> None:
        """Three voting delegates as trustees run the key ceremony, each from 'their own computer'
        (this process, over HTTP, seeds kept in memory): secret votes can then open."""
        members = [p for p in plan.people if p.is_voting and not p.is_leader][:3]
        self.http.command(self.congress_id, "name_trustees", employee_ids=[m.employee_id for m in members],
                          threshold=2)
        self.trustees = [(TrusteeHttp(self.o.urls[0], self.congress_id, m.employee_id, codes[m.employee_id]),
                          new_seed()) for m in members]
        state: dict[str, Any] = {}
        for _pass in range(4):  # each pass posts every round a trustee can; three rounds need three
            for trustee, seed in self.trustees:
                state = trustee.take_part(seed, wait=False)
            if state.get("status") != "collecting":
                break
        if state.get("status") != "ready":
            raise RehearsalAborted(f"the trustees' key ceremony did not complete: {state.get('status')}")
        self.sealing_key = state["public_key"]

    async def _ledger_seq(self, etype: str, key: Any, after: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seq, k in self.ledger.keys.items():
                if seq > after and k == (etype, key):
                    return seq
            await asyncio.sleep(0.05)
        raise RehearsalAborted(f"the staff connection never received {etype} {key}")

    # -- one vote --------------------------------------------------------------------------------
    async def vote(self, number: int, spec: Any, item_id: int, plan: Plan, group_ids: dict[str, int],
                   checked_in: set[str]) -> dict[str, Any]:
        o = self.o
        hand_ids = [group_ids[g] for g in plan.hand_counted]
        await self.guard()
        vote = await self.staff_command("create_vote", agenda_item_id=item_id, title=spec.title,
                                        questions=spec.questions, is_secret=spec.is_secret,
                                        hand_count_groups=hand_ids)
        if vote is None:
            raise RehearsalAborted(f"create_vote failed: {self.errors[-1]}")
        vote_id = int(vote["id"])
        questions = vote["questions"]
        await self.guard()
        await self.staff_command("set_current_item", cause=("agenda.current_changed", item_id), item_id=item_id)
        # Who answers what: decided here, so the expected tally is known exactly
        ballots: dict[str, dict[str, Any]] = {}
        hand_choices: dict[int, list[dict[str, Any]]] = {g: [] for g in hand_ids}
        for p in plan.people:
            if not p.is_voting or p.employee_id not in checked_in:
                continue
            answers = {str(q["id"]): choose(q, self.rng) for q in questions}
            gid = group_ids[p.group]
            if gid in hand_ids:
                hand_choices[gid].append(answers)
            else:
                ballots[p.employee_id] = answers
        hand_counts: dict[str, dict[str, Any]] = {}
        for group in plan.hand_counted:
            gid = group_ids[group]
            members = hand_choices[gid]
            figures: dict[str, Any] = {}
            for q in questions:
                qid = str(q["id"])
                counts = Counter(a for m in members for a in (m[qid] if isinstance(m[qid], list) else [m[qid]]))
                entry: dict[str, Any] = {"counts": {o_["key"]: counts.get(o_["key"], 0) for o_ in q["options"]}}
                if spec.is_secret:
                    entry.update(issued=len(members), returned=len(members), valid=len(members), void=0)
                figures[qid] = entry
            hand_counts[plan.leader(group).employee_id] = {
                "group_id": gid, "method": "paper" if spec.is_secret else "show_of_hands",
                "present": len(members), "questions": figures, "scrutineer": f"{group}监票人"}
        fault = self.fault if number == 0 else None
        # With a fault, the ballots keep arriving until a few seconds after it ends
        spread = max(o.vote_spread, fault.plan.at + fault.plan.duration + 3) if fault is not None else o.vote_spread
        probes = self._probes(number, plan, group_ids, ballots, questions, spread) if number == 0 else []
        sealing_vote = {**vote, "sealing": {"public_key": self.sealing_key}} if spec.is_secret else None
        per_worker = [{"vote_id": vote_id, "spread": spread, "drop": o.drop_rate > 0, "sealing_vote": sealing_vote,
                       "ballots": {}, "hand_counts": {}, "probes": []} for _ in self.workers]
        for employee_id, answers in ballots.items():
            per_worker[self.owner(employee_id)]["ballots"][employee_id] = answers
        for employee_id, args in hand_counts.items():
            per_worker[self.owner(employee_id)]["hand_counts"][employee_id] = args
        for probe in probes:
            per_worker[0 if probe["who"] == "observer" else self.owner(probe["who"])]["probes"].append(probe)

        self.ui.phase(f"vote{vote_id}", f"表决 {number + 1} ballots", len(ballots) + len(hand_counts))
        await self.guard()
        opened = await self.staff_command("open_vote", cause=("vote.opened", vote_id), vote_id=vote_id)
        if opened is None:
            raise RehearsalAborted(f"open_vote failed: {self.errors[-1]}")
        opened_at = self.causes[("vote.opened", vote_id)]
        injecting = asyncio.get_running_loop().create_task(self._inject(fault, opened_at)) if fault else None
        answers = await self.ask_all("vote", per_worker)
        acks = [a for ans in answers for a in ans["acks"]]
        hands = [h for ans in answers for h in ans["hand"]]
        if injecting is not None:
            await injecting
            self.fault_acks = acks + hands
        last_ack = max([a["acked"] for a in acks] + [h["acked"] for h in hands], default=opened_at)
        await self.guard()
        await self.staff_command("close_vote", cause=("vote.closed", vote_id), vote_id=vote_id)
        decrypt_seconds = None
        if spec.is_secret:  # trustees 1 and 3 decrypt the sums; 2 of 3 are needed
            began = time.time()
            for trustee, seed in (self.trustees[0], self.trustees[2]):
                await asyncio.to_thread(trustee.decrypt, seed, vote_id)
            decrypt_seconds = round(time.time() - began, 2)
        await self.guard()
        await self.staff_command("certify_vote", cause=("vote.certified", vote_id), vote_id=vote_id,
                                 scrutineer=SCRUTINEER)
        await self.guard()
        published_at = time.time()
        await self.staff_command("publish_vote", cause=("vote.published", vote_id), vote_id=vote_id)
        deadline = time.monotonic() + 60
        while vote_id not in self.ledger.published and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        result = self.ledger.published.get(vote_id)
        mismatches = compare_tally(questions, acks, hands, result)
        summary = {
            "vote_id": vote_id, "title": spec.title, "is_secret": spec.is_secret,
            "ballots": len(acks), "of": len(ballots), "hand_counts": len(hands),
            "open_to_last_ack_seconds": round(last_ack - opened_at, 2),
            "ballot_ack_p50_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 50),
            "ballot_ack_p99_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 99),
            "close_to_published_seconds": round(time.time() - published_at, 2),
            "trustees_decrypt_seconds": decrypt_seconds,
            "drops": sum(ans["drops"] for ans in answers),
            "probes": [p for ans in answers for p in ans["probes"]],
            "tally_matches": not mismatches and result is not None, "mismatches": mismatches[:10],
            "outcome": [q.get("words") for q in (result or {}).get("questions", [])],
        }
        self.ui.done(f"vote{vote_id}", f"vote {number + 1}: {len(acks)} ballots + {len(hands)} hand counts, "
                                       f"open→last ack {summary['open_to_last_ack_seconds']} s, "
                                       f"tally {'matches' if summary['tally_matches'] else 'MISMATCH'}")
        return summary

    async def _inject(self, fault: FaultRun, opened_at: float) -> None:
        """The fault, then one staff command at its end: when it is acknowledged, commands work again
        (sent with the same id until answered; `unavailable` is answered by resending)."""
        how = "command" if fault.plan.fault_command else fault.plan.mode
        self.ui.note(f"fault {fault.plan.kind}:{how} in {fault.plan.at} s for {fault.plan.duration} s")
        await fault.run(opened_at)
        if fault.ended_at is None:
            return
        self.ui.note(f"fault ended after {fault.ended_at - (fault.started_at or fault.ended_at):.1f} s")
        reply = await self.staff_reply("set_stream", kind="none", delay_seconds=0)
        self.fault_probe = {"acked": time.time() if reply.get("msg") == "ack" else None, "reply": reply.get("code")}

    def _fault_report(self, synced: list[dict[str, Any]]) -> None:
        assert self.fault is not None
        r = self.report
        entry = summarise(self.fault, self.fault_acks, [o for s in synced for o in s.get("outages", [])],
                          sum(s.get("away", 0) for s in synced), self.fault_probe,
                          sum(s.get("retried", 0) for s in synced) + (self.staff.retried if self.staff else 0),
                          sum(s.get("moved", 0) for s in synced))
        r["faults"] = [entry]
        r["problems"] += [f"fault: {p}" for p in entry["problems"]]
        r["ok"] = not r["problems"]

    def _probes(self, number: int, plan: Plan, group_ids: dict[str, int], ballots: dict[str, Any],
                questions: list[dict[str, Any]], spread: float) -> list[dict[str, Any]]:
        """Steps the rules must refuse, played once under load: their refusals are expected."""
        answers = {str(q["id"]): (q["options"][0]["key"] if q["kind"] != "election" else [q["options"][0]["key"]])
                   for q in questions}
        after = spread + 1.0
        probes = [{"who": "observer", "expect": "read_only", "answers": answers, "after": after}]
        hand_members = [p for p in plan.people if p.is_voting and not p.is_leader and p.group in plan.hand_counted]
        if hand_members:
            probes.append({"who": hand_members[0].employee_id, "expect": "group_hand_counted", "answers": answers,
                           "after": after})
        non_voting = [p for p in plan.people if not p.is_voting]
        if non_voting:
            probes.append({"who": non_voting[0].employee_id, "expect": "not_voting_delegate", "answers": answers,
                           "after": after})
        if ballots:
            # a second ballot from someone whose first was recorded (a new command id, not a resend)
            who = sorted(ballots)[0]
            probes.append({"who": who, "expect": "already_voted", "answers": ballots[who], "after": after + 2})
        return probes

    # -- proposals -------------------------------------------------------------------------------
    async def proposals(self, plan: Plan) -> dict[str, Any]:
        o = self.o
        await self.guard()
        specs = proposal_specs(plan, o.proposals)
        by_key = {s.key: s for s in specs}
        per_worker: list[dict[str, Any]] = [{"specs": []} for _ in self.workers]
        for s in specs:
            per_worker[self.owner(s.proposer)]["specs"].append(
                {"key": s.key, "proposer": s.proposer, "cosigners": s.cosigners, "title": s.title,
                 "reason": s.reason, "suggestion": s.suggestion})
        self.ui.phase("proposals", "提案 proposals filed", len(specs))
        began = time.time()
        answers = await self.ask_all("proposals", per_worker)
        filed = [f for ans in answers for f in ans["filed"]]
        for f in filed:
            self.causes[("proposal.submitted", f["proposal_id"])] = f["sent"]
        filed_seconds = time.time() - began
        self.ui.done("proposals", f"{len(filed)}/{len(specs)} filed and submitted in {filed_seconds:.1f} s")

        # Triage: the review queue, then a decision and an assignment for each
        self.ui.phase("triage", "立案审查 triage", len(filed) * 2)
        triage_began = time.time()
        await self.guard()
        queue = await self.staff_command("triage") or {"proposals": []}
        in_queue = {int(p["id"]): p for p in queue["proposals"]}
        key_of = {f["proposal_id"]: f["key"] for f in filed}
        missing = sorted(set(key_of) - set(in_queue))
        if missing:
            self.errors.append({"who": "staff", "op": "triage", "code": "rehearsal_missing",
                                "message": f"{len(missing)} submitted proposals not in the triage queue: {missing[:5]}"})
        decided: list[int] = []
        to_assign: list[int] = []
        gate = asyncio.Semaphore(8)
        department_missing = asyncio.Event()

        async def decide(pid: int) -> None:
            spec = by_key[key_of[pid]]
            args: dict[str, Any] = {"proposal_id": pid, "decision": spec.decision}
            if spec.decision == "不予立案":
                args["reason"] = "演练：不属于职代会提案范围，转有关部门研究"
            async with gate:
                if await self.staff_command("decide_proposal", cause=("proposal.decided", pid), **args) is not None:
                    decided.append(pid)
                    if spec.decision != "不予立案":
                        to_assign.append(pid)
            self.ui.advance("triage", 1)

        assigned: list[int] = []

        async def assign(pid: int) -> None:
            if department_missing.is_set():
                return
            async with gate:
                reply = await self.staff_reply("assign_proposal", cause=("proposal.assigned", pid), proposal_id=pid,
                                               lead=o.department, due_at="2030-12-31T18:00:00+08:00")
            if reply.get("msg") == "ack":
                assigned.append(pid)
            elif reply.get("code") == "not_found" and o.department in str(reply.get("message")):
                department_missing.set()
            else:
                self.errors.append({"who": "staff", "op": "assign_proposal", "code": reply.get("code"),
                                    "message": str(reply.get("message"))[:200]})
            self.ui.advance("triage", 1)

        ids = sorted(p for p in in_queue if p in key_of)
        for start in range(0, len(ids), 50):
            await self.guard()
            await asyncio.gather(*(decide(pid) for pid in ids[start:start + 50]))
        for start in range(0, len(to_assign), 50):
            await self.guard()
            await asyncio.gather(*(assign(pid) for pid in sorted(to_assign)[start:start + 50]))
        if department_missing.is_set():
            self.errors.append({"who": "staff", "op": "assign_proposal", "code": "department_missing",
                                "message": f"承办部门“{o.department}”不存在或无法交办：请先在目标服务器上运行 "
                                           f"congress department add {o.department}"})
        self.ui.done("triage", f"{len(decided)} decided, {len(to_assign)} to assign")
        decisions = Counter(by_key[key_of[p]].decision for p in decided)
        return {"planned": len(specs), "filed": len(filed), "submitted": sum(f["status"] == "submitted" for f in filed),
                "filing_seconds": round(filed_seconds, 1), "triage_seconds": round(time.time() - triage_began, 1),
                "decided": len(decided), "decisions": dict(decisions),
                "assigned": len(assigned), "department": o.department}

    # -- reconnect storm -------------------------------------------------------------------------
    async def storm(self) -> dict[str, Any]:
        await self.guard()
        self.ui.phase("storm", "重连风暴 reconnect storm", None)
        dropped = await self.ask_all("storm")
        # Public events while they are away: every observer must get them in its resume backlog.
        for k in range(3):
            url = f"https://rehearsal.invalid/{self.run_id}/storm-{k}.m3u8"
            await self.staff_command("set_stream", cause=("stream.set", url), kind="hls", url=url, delay_seconds=0)
        await self.staff_command("set_stream", cause=("stream.set", None), kind="none", delay_seconds=0)
        waits = await self.ask_all("storm_wait", common={"timeout": STORM_WAIT_SECONDS})
        synced = sorted(s for w in waits for s in w["synced"])
        at = min(d["at"] for d in dropped)
        offsets = sorted(s + (w["at"] - at) for w in waits for s in w["synced"])
        dropped_count = sum(d["dropped"] for d in dropped)
        # the time until the last one is back; None when some were still away after the window
        seconds = round(offsets[-1], 2) if offsets and len(offsets) == dropped_count else None
        self.ui.done("storm", f"{len(synced)}/{dropped_count} observers resynchronised "
                              + (f"in {seconds} s" if seconds is not None else f"within {STORM_WAIT_SECONDS} s"))
        return {"observers": dropped_count, "resynced": len(synced), "window_seconds": STORM_WAIT_SECONDS,
                "seconds": seconds, "p50_seconds": _round(_pct(offsets, 50)), "p99_seconds": _round(_pct(offsets, 99)),
                "snapshot_fallbacks": sum(w["snapshot_fallbacks"] for w in waits)}

    # -- merging ---------------------------------------------------------------------------------
    def _truth(self, log: PublicLog, marker: int) -> dict[str, Any]:
        causes = {seq: self.causes[key] for seq, key in self.ledger.keys.items() if key in self.causes}
        start = self.staff.intervals[0][0] if self.staff is not None and self.staff.intervals else 0
        public = sorted(s for s in log.public if start < s <= marker)  # from when the ledger began
        return {"public": public, "marker": marker,
                "at": {s: self.ledger.at[s] for s in public if s in self.ledger.at},
                "types": dict(self.ledger.types), "causes": causes,
                "group_events": dict(self.ledger.group_events), "checked_in": dict(self.ledger.checked_in)}

    async def _stop_workers(self, graceful: bool = True) -> None:
        """After `finish` the workers exit by themselves; after an abort they are told to stop
        (their pipe closes) and terminated if they are still busy."""
        if not graceful:
            for w in self.workers:
                w.conn.close()
        deadline = time.monotonic() + (30 if graceful else 5)
        for w in self.workers:
            while w.process.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=5)

    def _merge(self, results: list[dict[str, Any]], synced: list[dict[str, Any]], truth: dict[str, Any],
               log: PublicLog, ledger_start: int, marker: int) -> None:
        r = self.report
        totals: Counter[str] = Counter()
        latency: dict[str, Counter[int]] = {}
        latency_max: dict[str, float] = {}
        examples: list[str] = []
        resync: list[float] = []
        for res in results:
            totals.update(res["totals"])
            examples += res["examples"]
            for etype, hist in res["latency"].items():
                latency.setdefault(etype, Counter()).update({int(k): v for k, v in hist.items()})
            for etype, value in res["latency_max"].items():
                latency_max[etype] = max(latency_max.get(etype, 0.0), value)
            self.errors += res["errors"]
            self.expected_errors += res["expected_errors"]
            resync += res["resync_seconds"]
            totals["type_conflicts"] += res["type_conflict_count"]
        staff = self.staff
        assert staff is not None
        staff_dups = len(staff.seqs) - len(set(staff.seqs))
        gaps = self.ledger.gaps(ledger_start, marker)
        public = set(truth["public"])
        not_in_ledger = sorted(s for s in public if s not in self.ledger.types)
        type_mismatch = sorted(s for s in public if self.ledger.types.get(s) not in (None, log.public[s]))
        behind = sum(s["count"] for s in synced)
        r["integrity"] = {
            "public_events": len(public), "ledger_events": marker - ledger_start,
            "clients_checked": totals["clients"], "expected_deliveries": totals["expected"],
            "lost": totals["lost"], "duplicated": totals["duplicated"], "leaked": totals["leaked"],
            "out_of_order": totals["order_violations"], "type_conflicts": totals["type_conflicts"],
            "unknown_seqs": totals["unknown"], "clients_failed": totals["failed_clients"],
            "clients_never_connected": totals["never_connected"],
            "clients_behind_at_end": behind,
            "staff_ledger": {"from": ledger_start, "to": marker, "gaps": len(gaps), "duplicated": staff_dups,
                             "resumes": staff.resumes, "snapshot_fallbacks": staff.snapshot_fallbacks},
            "log_reader": {"pages": log.pages, "holes": log.holes, "anomalies": log.anomalies[:5],
                           "public_not_in_ledger": not_in_ledger[:5], "type_mismatch": type_mismatch[:5]},
            "examples": examples[:15] + [f"{s['behind']}" for s in synced if s["count"]][:3],
        }
        r["drops"] = {
            "planned": totals["planned_drops"], "resumes": totals["resumes"],
            "snapshot_fallbacks": totals["snapshot_fallbacks"], "resends": totals["resends"],
            "connect_failures": totals["connect_failures"],
            "closes": {k[6:]: v for k, v in totals.items() if k.startswith("close ")},
            "resync_p50_seconds": _round(_pct(resync, 50)), "resync_p99_seconds": _round(_pct(resync, 99)),
        }
        merged: Counter[int] = Counter()
        for hist in latency.values():
            merged.update(hist)
        fanout_by_type: dict[str, Counter[int]] = {}
        for res in results:
            for etype, hist in res["fanout"].items():
                fanout_by_type.setdefault(etype, Counter()).update({int(k): v for k, v in hist.items()})
        fanout: Counter[int] = Counter()
        for hist in fanout_by_type.values():
            fanout.update(hist)
        # command sent -> the event's server time: the part spent queueing for and in the writer
        in_writer: dict[str, list[float]] = {}
        for seq, sent in truth["causes"].items():
            if seq in truth["at"]:
                in_writer.setdefault(truth["types"].get(seq, "?"), []).append((truth["at"][seq] - sent) * 1000.0)
        r["delivery"] = {
            "observer_deliveries": totals["live_deliveries"] + totals["backlog_deliveries"],
            "live": totals["live_deliveries"], "after_resume": totals["backlog_deliveries"],
            "measured": sum(merged.values()), "caused_events": len(truth["causes"]),
            "p50_ms": _hist_pct(merged, 50), "p99_ms": _hist_pct(merged, 99),
            "max_ms": round(max(latency_max.values()), 1) if latency_max else None,
            "server_time_to_observer": {"p50_ms": _hist_pct(fanout, 50), "p99_ms": _hist_pct(fanout, 99),
                                        "max_ms": round(max(x["fanout_max"] for x in results), 1)},
            "by_type": {etype: {"n": sum(h.values()), "p50_ms": _hist_pct(h, 50), "p99_ms": _hist_pct(h, 99),
                                "max_ms": round(latency_max.get(etype, 0.0), 1),
                                "to_server_time_p50_ms": _round(_pct(in_writer.get(etype, []), 50)),
                                "to_server_time_p99_ms": _round(_pct(in_writer.get(etype, []), 99)),
                                "server_time_to_observer_p50_ms": _hist_pct(fanout_by_type.get(etype, Counter()), 50),
                                "server_time_to_observer_p99_ms": _hist_pct(fanout_by_type.get(etype, Counter()), 99)}
                        for etype, h in sorted(latency.items())},
        }
        unexpected = Counter(e["code"] for e in self.errors)
        r["errors"] = {"unexpected": len(self.errors), "by_code": dict(unexpected), "expected_refusals":
                       self.expected_errors, "examples": self.errors[:10]}
        r["clients"].update(cpu_seconds=round(sum(x["cpu_seconds"] for x in results), 1),
                            max_rss_mb=round(max(x["max_rss_mb"] for x in results), 1),
                            max_open_files_per_process=max(x["max_open_files"] for x in results))
        mismatches = [m for v in r.get("votes", []) for m in v["mismatches"]]
        unpublished = [v["vote_id"] for v in r.get("votes", []) if not v["tally_matches"] and not v["mismatches"]]
        r["tallies"] = {"votes": len(r.get("votes", [])), "mismatches": len(mismatches) + len(unpublished)}
        integrity = r["integrity"]
        problems = []
        for name in ("lost", "duplicated", "leaked", "out_of_order", "type_conflicts", "clients_failed",
                     "clients_never_connected", "clients_behind_at_end"):
            if integrity[name]:
                problems.append(f"{name}: {integrity[name]}")
        if gaps or staff_dups or self.ledger.repeats:
            problems.append(f"staff ledger: {len(gaps)} gaps, {staff_dups + self.ledger.repeats} duplicates")
        if log.holes or log.anomalies or not_in_ledger or type_mismatch:
            problems.append("public log reader: incomplete or inconsistent truth")
        if r["tallies"]["mismatches"]:
            problems.append(f"tally mismatches: {r['tallies']['mismatches']}")
        if self.errors:
            problems.append(f"unexpected errors: {len(self.errors)}")
        storm = r.get("storm")  # slow resync is a missed target; never resyncing shows as behind/lost above
        p99 = r["delivery"]["p99_ms"]
        r["targets"] = {"zero_lost": integrity["lost"] == 0 and integrity["duplicated"] == 0,
                        "observer_p99_under_1s": p99 is not None and p99 < 1000}
        if storm:
            r["targets"]["storm_under_15s"] = (storm["resynced"] == storm["observers"] and storm["seconds"] is not None
                                               and storm["seconds"] < 15)
        r["problems"] = problems
        r["ok"] = not problems


def client_processes(clients: int, cores: int) -> int:
    """How many client processes carry `clients` connections on a machine with `cores` cores.

    Each process is one event loop. About 900 connections per process, at most 8, and no more than
    one more than the cores unless a process would then hold over BUSY_PROCESS connections. Measured
    on the 2-core machine that also runs the server (docs/performance.md, Rehearsal): the story's
    4,305 clients in 5 processes queued behind each other (observer p99 0.98–1.29 s), in 3 they did
    not (0.59–0.88 s); 20,305 clients in 3 processes of 6,800 each gave p99 2.74 s, in 8 of 2,540
    1.11 s. Never more than PER_PROCESS connections in one process (its open files)."""
    count = max(2, min(8, math.ceil(clients / 900), max(cores + 1, math.ceil(clients / BUSY_PROCESS))))
    return max(count, math.ceil(clients / PER_PROCESS))


def compare_tally(questions: list[dict[str, Any]], acks: list[dict[str, Any]], hands: list[dict[str, Any]],
                  result: dict[str, Any] | None) -> list[str]:
    """The published result against the ballots acknowledged and the hand counts entered, per
    question, per group and in total. Returns the differences in words (none: it matches)."""
    if result is None:
        return ["the result was never published to the staff connection"]
    expected: dict[str, dict[int, Counter[str]]] = {str(q["id"]): {} for q in questions}
    returned: dict[int, int] = Counter()
    for a in acks:
        returned[a["group_id"]] += 1
        for qid, answer in a["answers"].items():
            group = expected[qid].setdefault(a["group_id"], Counter())
            group.update(answer if isinstance(answer, list) else [answer])
    for h in hands:
        gid = h["group_id"]
        returned[gid] += h["args"]["present"] if h["args"]["method"] == "show_of_hands" else \
            next(iter(h["args"]["questions"].values()))["returned"]
        for qid, figures in h["args"]["questions"].items():
            expected[qid][gid] = Counter(figures["counts"])
    problems = []
    published = {str(q["question_id"]): q for q in result.get("questions", [])}
    for qid, groups in expected.items():
        q = published.get(qid)
        if q is None:
            problems.append(f"question {qid} missing from the published result")
            continue
        got_groups = {int(g["group_id"]): g for g in q.get("groups", [])}
        total: Counter[str] = Counter()
        for gid, counts in groups.items():
            total.update(counts)
            got = got_groups.get(gid)
            want = {k: v for k, v in counts.items() if v}
            have = {k: v for k, v in (got or {}).get("counts", {}).items() if v}
            if want != have:
                problems.append(f"question {qid} group {gid}: published {have}, cast {want}")
            if got is not None and got.get("returned") != returned.get(gid, 0):
                problems.append(f"question {qid} group {gid}: returned {got.get('returned')}, cast {returned.get(gid, 0)}")
        for gid, got in got_groups.items():
            if gid not in groups and any(got.get("counts", {}).values()):
                problems.append(f"question {qid} group {gid}: published {got['counts']}, nothing cast")
        have_total = {o["key"]: o["count"] for o in q.get("options", []) if o["count"]}
        if have_total != {k: v for k, v in total.items() if v}:
            problems.append(f"question {qid} total: published {have_total}, cast {dict(total)}")
    return problems


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))], 1)


def _hist_pct(hist: Counter[int], p: float) -> float | None:
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for ms in sorted(hist):
        seen += hist[ms]
        if seen >= rank:
            return float(ms)
    return float(max(hist))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def rehearse(options: Options, ui: UI) -> dict[str, Any]:
    """Run a rehearsal; Ctrl-C or SIGTERM stops it early with the report of what was measured."""
    import signal

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, task.cancel)
        except (NotImplementedError, RuntimeError):  # not the main thread: default handling
            pass
    return await Coordinator(options, ui).run()
