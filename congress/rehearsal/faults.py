"""`congress rehearse --fault worker|redis|database`: one fault injected during the first vote.

What each fault does to the deployment (docs/deploy.md, "Rehearsing faults"):

- ``worker`` (``worker:term``, the default, or ``worker:kill``): SIGTERM or SIGKILL to one server
  process — the last ``--server-pid``, or a worker process listening on the last ``--url``'s port.
  The deployment's supervisor restarts it (systemd ``Restart=``), or the rehearsal runs
  ``--restart-command`` ``--fault-for`` seconds later. Its clients move to the next URL at once.
- ``redis`` (``redis:pause``, the default): ``CLIENT PAUSE <ms> ALL`` on ``--redis-url`` for
  ``--fault-for`` seconds (Redis ends the pause itself): Redis answers nobody — publishes wait, the
  subscribers hear nothing — but no connection is lost: a *hung* Redis. ``redis:kill``: every 0.2 s
  ``CLIENT KILL`` of every pub/sub and normal connection but the rehearsal's own: a Redis that keeps
  dropping its connections (a reconnection between two rounds can still get a message through).
  Neither refuses connections as a stopped Redis does: for that, ``--fault-command``/``--recover-command``.
- ``database`` (``database:terminate``): every 0.1 s ``pg_terminate_backend`` of every other client
  connection to ``--database-url``'s database (which must be allowed to: superuser or
  ``pg_signal_backend``), as a restart looks to the app — open transactions fail with 57P01, the
  next connection is cut at once; one opened between two rounds may still commit. SQLite: not supported.
- any kind with ``--fault-command`` and ``--recover-command``: the first runs at the fault's start,
  the second ``--fault-for`` seconds later (e.g. ``systemctl stop redis`` / ``systemctl start redis``,
  ``pg_ctlcluster 15 main stop`` / ``… start``): the real thing, on a machine you have a shell on.

One fault per run: its recovery time and delayed acknowledgements then belong to it alone; rehearse
again for the next one. Deciding what is missing (`refusal`) and summing up (`summarise`) are pure;
the injectors run in this process, next to the coordinator, while the vote goes on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = {"worker": ("term", "kill"), "redis": ("pause", "kill"), "database": ("terminate",)}
COMMAND_TIMEOUT = 120.0  # seconds a fault, recover or restart command may take
KILL_EVERY = 0.2  # seconds between two rounds of CLIENT KILL
TERMINATE_EVERY = 0.1  # seconds between two rounds of pg_terminate_backend


class FaultRefused(ValueError):
    """A fault asked for without what it needs; the message names the missing flag."""


@dataclass
class FaultPlan:
    kind: str
    mode: str
    at: float = 2.0  # seconds after the vote opens
    duration: float = 10.0  # seconds the fault lasts (worker: until the restart command)
    redis_url: str | None = None
    database_url: str | None = None
    restart_command: str | None = None
    fault_command: str | None = None
    recover_command: str | None = None
    target_pid: int | None = None  # worker: the process signalled


def parse_fault(text: str) -> tuple[str, str]:
    """`worker`, `worker:kill`, `redis:pause`, …: (kind, mode); the first mode is the default."""
    kind, _, mode = text.strip().lower().partition(":")
    if kind not in MODES:
        raise FaultRefused(f"--fault {text}: unknown fault; one of {', '.join(MODES)}")
    mode = mode or MODES[kind][0]
    if mode not in MODES[kind]:
        raise FaultRefused(f"--fault {text}: unknown mode; {kind} takes {' or '.join(MODES[kind])}")
    return kind, mode


def refusal(plan: FaultPlan) -> str | None:
    """Why the fault cannot run as given (naming the missing flag), or None."""
    if plan.at < 0 or plan.duration <= 0:
        return "--fault-at must be 0 or more and --fault-for more than 0 seconds"
    if bool(plan.fault_command) != bool(plan.recover_command):
        return "--fault-command and --recover-command go together: give both"
    if plan.fault_command:
        if plan.kind == "worker":
            return "--fault worker signals a server process: use --restart-command, not --fault-command"
        return None
    if plan.kind == "redis" and not plan.redis_url:
        return "--fault redis needs --redis-url (the deployment's Redis), or --fault-command and --recover-command"
    if plan.kind == "database":
        if not plan.database_url:
            return ("--fault database needs --database-url (the deployment's PostgreSQL, as a role allowed to "
                    "terminate its connections), or --fault-command and --recover-command")
        if plan.database_url.startswith("sqlite"):
            return "--fault database is not supported on SQLite (one process, one file: there is no server to lose)"
    return None


def pick_worker(pids: list[int], parents: dict[int, int]) -> int | None:
    """Of the processes listening on one port, the one to signal: a worker whose parent also listens
    (uvicorn with several workers: the parent is the supervisor that restarts it), else the process."""
    children = [p for p in pids if parents.get(p) in pids]
    chosen = children or pids
    return max(chosen) if chosen else None


def runs_congress(pid: int) -> bool:
    """Whether a process is a congress server (`congress serve`, or uvicorn on congress.app), so a
    worker fault found by port never signals nginx or anything else listening on the URL's port."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"congress" in part for part in argv)


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def check_reachable(plan: FaultPlan) -> None:
    """Before the rehearsal starts: the target of the fault is there and may be acted on."""
    if plan.fault_command:
        return
    if plan.kind == "worker":
        if plan.target_pid is None:
            raise FaultRefused("--fault worker: no server process found listening on the last --url; "
                               "give --server-pid (the process to signal)")
        if not Path(f"/proc/{plan.target_pid}").exists():
            raise FaultRefused(f"--fault worker: --server-pid {plan.target_pid} is not running on this machine")
    elif plan.kind == "redis":
        import redis

        try:
            redis.Redis.from_url(plan.redis_url or "", socket_connect_timeout=5).ping()
        except Exception as exc:
            raise FaultRefused(f"--fault redis: --redis-url does not answer: {exc.__class__.__name__}") from None
    elif plan.kind == "database":
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(plan.database_url or "", poolclass=sa.pool.NullPool)
            with engine.connect() as conn:
                allowed = conn.exec_driver_sql(
                    "SELECT rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') "
                    "FROM pg_roles WHERE rolname = current_user").scalar()
            engine.dispose()
        except Exception as exc:
            raise FaultRefused(f"--fault database: --database-url does not answer: {exc.__class__.__name__}") from None
        if not allowed:
            raise FaultRefused("--fault database: the --database-url role may not terminate connections "
                               "(needs superuser or membership of pg_signal_backend)")


def _shell(command: str) -> dict[str, Any]:
    began = time.monotonic()
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        status: int | str = done.returncode
        tail = (done.stderr or done.stdout).strip()[-300:]
    except subprocess.TimeoutExpired:
        status, tail = "timeout", f"still running after {COMMAND_TIMEOUT:.0f} s"
    return {"command": command, "exit": status, "seconds": round(time.monotonic() - began, 2),
            **({"output": tail} if status != 0 and tail else {})}


@dataclass
class FaultRun:
    """One fault, played from `run()` (a task started when the vote opens). Times are unix seconds."""

    plan: FaultPlan
    opened_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    async def run(self, opened_at: float) -> None:
        self.opened_at = opened_at
        await asyncio.sleep(max(0.0, opened_at + self.plan.at - time.time()))
        p = self.plan
        try:
            if p.fault_command:
                await self._commands()
            elif p.kind == "worker":
                await self._worker()
            elif p.kind == "redis":
                await (self._redis_pause() if p.mode == "pause" else self._redis_kill())
            else:
                await self._database()
        except Exception as exc:  # reported; the rehearsal goes on and checks what it can
            self.problems.append(f"fault {p.kind}:{p.mode} failed: {exc.__class__.__name__}: {exc}"[:300])
        finally:
            if self.started_at is not None and self.ended_at is None:
                self.ended_at = time.time()

    async def _commands(self) -> None:
        p = self.plan
        self.started_at = time.time()
        self.details["fault_command"] = await asyncio.to_thread(_shell, p.fault_command or "")
        await asyncio.sleep(max(0.0, self.started_at + p.duration - time.time()))
        self.details["recover_command"] = await asyncio.to_thread(_shell, p.recover_command or "")
        self.ended_at = time.time()
        for name in ("fault_command", "recover_command"):
            if self.details[name]["exit"] != 0:
                self.problems.append(f"--{name.replace('_', '-')} exited {self.details[name]['exit']}")

    async def _worker(self) -> None:
        p = self.plan
        assert p.target_pid is not None
        sig = signal.SIGKILL if p.mode == "kill" else signal.SIGTERM
        self.started_at = self.ended_at = time.time()  # recovery counts from the signal
        os.kill(p.target_pid, sig)
        self.details.update(pid=p.target_pid, signal=sig.name)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{p.target_pid}").exists() and time.monotonic() < deadline:
            if _zombie(p.target_pid):
                break
            await asyncio.sleep(0.05)
        gone = not Path(f"/proc/{p.target_pid}").exists() or _zombie(p.target_pid)
        # SIGTERM: how long the worker took to drain and exit
        self.details["exited_after_seconds"] = round(time.time() - self.started_at, 2) if gone else None
        if not gone:
            self.problems.append(f"worker {p.target_pid} still running 60 s after {sig.name}")
        if p.restart_command:
            await asyncio.sleep(max(0.0, self.started_at + p.duration - time.time()))
            self.details["restart_command"] = await asyncio.to_thread(_shell, p.restart_command)
            if self.details["restart_command"]["exit"] != 0:
                self.problems.append(f"--restart-command exited {self.details['restart_command']['exit']}")

    async def _redis_pause(self) -> None:
        import redis

        p = self.plan
        client = redis.Redis.from_url(p.redis_url or "", socket_timeout=10)
        try:
            # Redis ends the pause itself (no UNPAUSE: it would wait in the pause like every command),
            # so it also ends if the rehearsal dies meanwhile
            began = time.time()
            await asyncio.to_thread(client.execute_command, "CLIENT", "PAUSE", int(p.duration * 1000), "ALL")
            self.started_at = began
            await asyncio.sleep(max(0.0, began + p.duration - time.time()))
            self.ended_at = began + p.duration
        finally:
            client.close()

    async def _redis_kill(self) -> None:
        import redis

        p = self.plan
        client = redis.Redis.from_url(p.redis_url or "", socket_timeout=10)
        killed = rounds = 0
        try:
            self.started_at = time.time()
            while time.time() < self.started_at + p.duration:
                for kind in ("pubsub", "normal"):
                    killed += int(await asyncio.to_thread(client.execute_command, "CLIENT", "KILL", "TYPE", kind,
                                                          "SKIPME", "yes"))
                rounds += 1
                await asyncio.sleep(KILL_EVERY)
            self.ended_at = time.time()
        finally:
            client.close()
            self.details.update(connections_killed=killed, rounds=rounds)

    async def _database(self) -> None:
        import sqlalchemy as sa

        p = self.plan
        engine = sa.create_engine(p.database_url or "", poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        terminated = rounds = 0
        query = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        try:
            with engine.connect() as conn:
                self.started_at = time.time()
                while time.time() < self.started_at + p.duration:
                    terminated += int(await asyncio.to_thread(lambda: conn.exec_driver_sql(query).scalar() or 0))
                    rounds += 1
                    await asyncio.sleep(TERMINATE_EVERY)
                self.ended_at = time.time()
        finally:
            engine.dispose()
            self.details.update(connections_terminated=terminated, rounds=rounds)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].startswith("Z")


def summarise(run: FaultRun, acks: list[dict[str, Any]], outages: list[list[float]], still_away: int,
              probe: dict[str, Any] | None, retried: int, moved: int) -> dict[str, Any]:
    """The report's "faults" entry. `acks`: the vote's acknowledged commands (sent, acked);
    `outages`: (lost, back) of every connection lost unasked since the fault began; `probe`: the
    staff command sent when the fault ended (sent, acked or None)."""
    p = run.plan
    start, end = run.started_at, run.ended_at
    entry: dict[str, Any] = {
        "fault": f"{p.kind}:{'command' if p.fault_command else p.mode}",
        "injected_seconds_into_vote": None if start is None else round(start - run.opened_at, 2),
        "lasted_seconds": None if start is None or end is None else round(end - start, 2),
        **run.details,
    }
    problems = list(run.problems)
    if start is None or end is None:
        entry["problems"] = problems + ["the fault was never injected"]
        return entry
    command_seconds = None
    if probe is not None and probe.get("acked"):
        command_seconds = round(probe["acked"] - end, 2)
    else:
        problems.append("commands did not succeed again after the fault (the staff probe got no acknowledgement)")
    backs = [back for lost, back in outages if lost >= start - 1]
    clients_seconds = round(max(0.0, max(backs) - end), 2) if backs else 0.0
    if still_away:
        problems.append(f"{still_away} clients lost their connection and never came back")
    recovered_at = end + max(command_seconds or 0.0, clients_seconds)
    delayed = [a for a in acks if a["sent"] < recovered_at and a["acked"] > start]
    slowest = max((a["acked"] - a["sent"] for a in delayed), default=None)
    entry.update({
        "recovery": {"commands_seconds": command_seconds, "clients_seconds": clients_seconds,
                     "clients_lost_connection": len(backs) + still_away, "clients_still_away": still_away},
        "acks_delayed": {"count": len(delayed), "slowest_ms": None if slowest is None else round(slowest * 1000),
                         "of": len(acks)},
        "commands_resent_after_unavailable": retried,
        "reconnections_to_another_url": moved,
        "problems": problems,
    })
    return entry
