"""The coordinator: sets the rehearsal up, plays the day phase by phase, merges what the clients saw.

Staff act from this process (over HTTP for setup, over one websocket for the day, which is also
the staff ledger); delegates and observers live in worker processes (`worker.py`). Every staff
step first reads the congress back and refuses to act unless its snapshot says it is a rehearsal.

The Coordinator's parts, each in its own module: the client processes (`processes.py`), the phases
after check-in — votes, proposals, storm (`phases.py`) — and the merge and verdict (`outcome.py`).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from congress.client.http import StaffHttp, ws_url
from congress.client.trustee import TrusteeHttp
from congress.rehearsal.client import Peer
from congress.rehearsal.faults import FaultPlan, FaultRun
from congress.rehearsal.ledger import PublicLog, StaffLedger
from congress.rehearsal.outcome import Outcome, _pct
from congress.rehearsal.phases import Phases
from congress.rehearsal.processes import ClientProcesses, RehearsalAborted, WorkerHandle
from congress.rehearsal.procstat import Sampler, local_server_pids
from congress.rehearsal.roster import Plan, make_plan, roster_csv, vote_specs
from congress.sealed.trustees import new_seed

__all__ = ["Coordinator", "Options", "RehearsalAborted", "UI", "rehearse"]


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


class Coordinator(ClientProcesses, Phases, Outcome):
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
            assert self.sealing_key is not None  # _make_trustee_key sets it or raises
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
        assert self.http is not None
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
