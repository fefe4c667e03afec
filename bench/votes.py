"""Benchmark: D delegates cast their ballots at the same moment through real websockets.

    python bench/votes.py [--delegates 295,3000] [--db sqlite,postgresql] [--clients 2] [--write-docs]
    python bench/votes.py --secret yes_no,election5 [...]   # sealed ballots (docs/secrecy.md)

For each database and roster size: a fresh database is brought to head by the migrations, and a
congress is built through the actions (a generated roster of D voting delegates in 7 groups,
imported as CSV, access codes issued, everyone checked in at the desk, a yes/no vote opened); a
real `congress serve` subprocess is started on it; client processes sign every delegate in over
HTTP and open one websocket per delegate. None of that is measured.

Measured: all clients send `cast_ballot` at once (t0 = the first send); each ballot's time is from
t0 to its ack. An ack means the ballot is committed (durably: SQLite WAL with synchronous=FULL,
PostgreSQL with synchronous_commit on). Printed: time until every ballot is acknowledged, ack p50
and p99, ballots per second; afterwards the ballot_cast rows are counted to confirm every acked
ballot is stored. `--write-docs` puts the table into the "Ballots" section of docs/performance.md.

`--secret` runs secret votes instead: three trustees make the key first (not measured), every client
seals its delegates' ballots before the burst (a phone's work, measured in bench/sealed_browser.py),
and the server checks every proof before it acknowledges. `yes_no` is one 赞成/反对/弃权 question,
`election5` an election of 2 among 5 candidates. After the burst the vote is closed and two trustees
decrypt the 7 groups' sums: the time from the first trustee's computation to the stored result is
printed too (the trustees' computers and the server, in this process). `--write-docs` puts that
table into the "Sealed ballots" section.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import multiprocessing as mp
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from congress.ops.server_process import ServerProcess  # noqa: E402

GROUPS = ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]
PG_ADMIN_URL = os.environ.get("CONGRESS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHOICES = ("yes", "no", "abstain")
DOC = ROOT / "docs" / "performance.md"


def progress(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- setup (not measured)


def roster_csv(delegates: int) -> bytes:
    """D voting delegates, `E` + 5-digit ids, spread over the 7 groups, one leader per group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["employee_id", "name", "gender", "group", "unit", "role", "is_group_leader", "delegate_type"])
    for i in range(delegates):
        group = GROUPS[i % len(GROUPS)]
        writer.writerow([f"E{10000 + i:05d}", f"代表{i:05d}", "男" if i % 3 else "女", group, f"{group}一车间",
                         "一线职工" if i % 5 else "管理人员", 1 if i < len(GROUPS) else 0, "正式代表"])
    return out.getvalue().encode("utf-8")


SECRET_QUESTIONS = {
    "yes_no": [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}],
    "election5": [{"kind": "election", "text": "补选职工董事 2 名", "seats": 2,
                   "candidates": ["周海燕", "陈立新", "王志远", "李秀英", "张卫东"]}],
}


@dataclass
class Setup:
    url: str
    congress_id: int
    vote_id: int
    question_id: str
    codes: list[tuple[str, str]]  # (employee id, access code)
    vote: dict[str, Any] | None = None  # a secret vote as the server describes it (with `sealing`)
    trustees: Any = None  # secret: (ceremony id, the trustees' delegate ids, their seeds)


def new_database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    name = f"congress_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    engine.dispose()


def build(url: str, delegates: int, secret: str | None = None) -> Setup:
    from congress.actions.accounts import issue_codes
    from congress.actions.agenda import add_agenda_item
    from congress.actions.attendance import check_in_at_desk
    from congress.actions.base import Context
    from congress.actions.roster import import_roster
    from congress.actions.setup import create_congress
    from congress.actions.votes import create_vote, open_vote
    from congress.db.engine import Database
    from congress.db.migrate import upgrade
    from congress.domain.kinds import Role
    from congress.domain.permissions import Actor

    upgrade(url)
    db = Database(url)
    staff = Actor(role=Role.STAFF, name="基准测试")
    try:
        with db.write() as session:
            ctx = Context(session, staff, datetime.now(UTC))
            congress = create_congress(ctx, f"基准测试 {delegates} 人", GROUPS)
            import_roster(ctx, congress.id, roster_csv(delegates), "roster.csv")
            codes = [(c["employee_id"], c["code"]) for c in issue_codes(ctx, congress.id)]
            item = add_agenda_item(ctx, congress.id, "审议通过", "表决《职工薪酬福利调整方案》")
            for employee_id, _code in codes:
                check_in_at_desk(ctx, congress.id, employee_id)
            trustees = make_trustees(ctx, congress.id) if secret else None
            vote = create_vote(ctx, congress.id, item["id"], "薪酬方案",
                               SECRET_QUESTIONS[secret] if secret else SECRET_QUESTIONS["yes_no"],
                               is_secret=bool(secret))
            opened = open_vote(ctx, congress.id, vote["id"])
    finally:
        db.dispose()
    return Setup(url, congress.id, vote["id"], str(vote["questions"][0]["id"]), codes,
                 opened if secret else None, trustees)


def make_trustees(ctx: Any, congress_id: int) -> tuple[int, list[Any], list[bytes]]:
    """Three delegates make the key as their computers would (congress.sealed.kit)."""
    from congress.actions.base import Context
    from congress.actions.trustees import ceremony_state, name_trustees, post_trustee_message
    from congress.application.auth import delegate_actor
    from congress.db.models import Delegate
    from congress.sealed.kit import next_message
    from congress.sealed.trustees import new_seed

    members = list(ctx.session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id)
                                       .order_by(Delegate.id).limit(3)))
    named = name_trustees(ctx, congress_id, [m.employee_id for m in members], 2)
    seeds = [new_seed() for _ in members]
    for _round in range(3):
        for index, (member, seed) in enumerate(zip(members, seeds, strict=True), start=1):
            mine = Context(ctx.session, delegate_actor(member), ctx.now)
            step = next_message(ceremony_state(mine, congress_id, named["ceremony_id"])["ceremony"], index, seed)
            if step is not None:
                post_trustee_message(mine, congress_id, named["ceremony_id"], step[0], step[1])
    return named["ceremony_id"], [m.id for m in members], seeds


def decrypt_by_two_trustees(setup: Setup) -> tuple[float, dict[str, Any]]:
    """Close the vote, then trustees 1 and 2 compute and post their shares: seconds until the result
    is stored (close not included), and the result."""
    from congress.actions.base import Context
    from congress.actions.sealed_tally import post_decryption, sealed_ballots
    from congress.actions.trustees import ceremony_state
    from congress.actions.votes import close_vote
    from congress.application.auth import delegate_actor
    from congress.db.engine import Database
    from congress.db.models import Delegate, Vote
    from congress.domain.kinds import Role
    from congress.domain.permissions import Actor
    from congress.sealed.kit import decryption_message

    ceremony_id, members, seeds = setup.trustees
    db = Database(setup.url)
    staff = Actor(role=Role.STAFF, name="基准测试")
    try:
        with db.write() as session:
            close_vote(Context(session, staff, datetime.now(UTC)), setup.congress_id, setup.vote_id)
        started = time.perf_counter()
        for index in (1, 2):
            with db.read() as session:
                ctx = Context(session, staff, datetime.now(UTC))
                state = ceremony_state(ctx, setup.congress_id, ceremony_id)["ceremony"]
                sealed = sealed_ballots(ctx, setup.congress_id, setup.vote_id)["sealed_tally"]
            message = decryption_message(state, index, seeds[index - 1], setup.vote_id, sealed)
            with db.write() as session:
                actor = delegate_actor(session.get(Delegate, members[index - 1]))
                post_decryption(Context(session, actor, datetime.now(UTC)), setup.congress_id, setup.vote_id, message)
        seconds = time.perf_counter() - started
        with db.read() as session:
            return seconds, session.get(Vote, setup.vote_id).result
    finally:
        db.dispose()


def stored_ballots(url: str, vote_id: int) -> int:
    from congress.db.engine import Database
    from congress.db.models import BallotCast

    db = Database(url)
    try:
        with db.read() as session:
            return session.scalar(sa.select(sa.func.count()).where(BallotCast.vote_id == vote_id)) or 0
    finally:
        db.dispose()


# ---------------------------------------------------------------- the server


# ---------------------------------------------------------------- client processes


@dataclass
class ClientJob:
    url: str
    congress_id: int
    vote_id: int
    question_id: str
    delegates: list[tuple[str, str]]
    seed: int
    vote: dict[str, Any] | None = None  # a secret vote: ballots are sealed here before the burst


def client_process(job: ClientJob, barrier: Any, results: Any) -> None:
    try:
        results.put(asyncio.run(_client(job, barrier)))
    except BaseException as exc:  # report, so the parent does not wait forever
        barrier.abort()
        results.put({"error": repr(exc)})


async def _client(job: ClientJob, barrier: Any) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    def sign_in(http: httpx.Client, employee_id: str, code: str) -> str:
        for attempt in range(5):
            response = http.post("/api/sign-in", json={"employee_id": employee_id, "code": code,
                                                       "congress_id": job.congress_id})
            # On SQLite a sign-in storm can outwait the busy timeout (the sign-in route holds the
            # write lock while it checks the argon2 hash); that is setup, so try again.
            if response.status_code < 500 or attempt == 4:
                break
            time.sleep(1)
        response.raise_for_status()
        return response.cookies["congress_session"]

    with httpx.Client(base_url=job.url, timeout=300) as http, ThreadPoolExecutor(max_workers=3) as pool:
        cookies = list(pool.map(lambda d: sign_in(http, *d), job.delegates))

    ws_url = job.url.replace("http://", "ws://") + f"/ws?congress={job.congress_id}"
    opening = asyncio.Semaphore(32)
    acked: dict[str, tuple[float, bool]] = {}
    done = asyncio.Event()

    async def open_socket(cookie: str) -> Any:
        async with opening:
            ws = await connect(ws_url, additional_headers={"Cookie": f"congress_session={cookie}"},
                               max_size=2**24, open_timeout=300, ping_interval=None)
            hello = json.loads(await ws.recv())
            assert hello["msg"] == "hello" and hello["role"] == "delegate", hello
            # Read from the start: an unread socket stops answering the server's pings.
            readers.append(asyncio.get_running_loop().create_task(read(ws)))
            return ws

    async def read(ws: Any) -> None:
        try:
            async for raw in ws:
                # Only our replies matter here; events and coalesced progress are skipped unparsed.
                if raw.startswith('{"msg":"ack"') or raw.startswith('{"msg":"error"'):
                    message = json.loads(raw)
                    ok = message["msg"] == "ack" and bool(message["result"].get("recorded"))
                    acked[message["id"]] = (time.monotonic(), ok)
                    if len(acked) == len(job.delegates):
                        done.set()
        except Exception:
            pass

    readers: list[asyncio.Task[None]] = []
    sockets = await asyncio.gather(*(open_socket(c) for c in cookies))
    await asyncio.to_thread(barrier.wait)
    await asyncio.sleep(1.0)  # let the server settle after the connection storm

    rng = random.Random(job.seed)

    def ballot() -> dict[str, Any]:
        if job.vote is None:
            return {"answers": {job.question_id: rng.choice(CHOICES)}}
        from congress.sealed.kit import seal_answers

        question = job.vote["questions"][0]
        keys = [o["key"] for o in question["options"]]
        answer = rng.sample(keys, rng.choice([1, 2])) if question["kind"] == "election" else rng.choice(keys)
        return {"sealed": seal_answers(job.vote, {job.question_id: answer})}

    frames = [(f"b-{employee_id}", json.dumps({"op": "cast_ballot", "id": f"b-{employee_id}", "vote_id": job.vote_id,
                                               **ballot()}))
              for employee_id, _code in job.delegates]
    started = time.monotonic()
    for ws, (_id, frame) in zip(sockets, frames, strict=True):
        await ws.send(frame)
    sent = time.monotonic()
    try:
        await asyncio.wait_for(done.wait(), 300)
    except TimeoutError:
        pass
    for ws in sockets:
        await ws.close()
    for reader in readers:
        reader.cancel()
    return {"started": started, "sent": sent, "acks": [acked.get(i, (None, False)) for i, _f in frames]}


# ---------------------------------------------------------------- one run


@dataclass
class Row:
    db: str
    delegates: int
    clients: int
    all_acked: float
    p50: float
    p99: float
    per_second: float
    recorded: int
    stored: int
    load: float  # the machine's 1-minute load average right after the burst
    ballot: str = "named yes/no"
    decrypt: float | None = None  # secret: two trustees' decryption until the result is stored


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run(kind: str, delegates: int, clients: int, folder: Path, profile: Path | None = None,
        secret: str | None = None) -> Row:
    progress(f"{kind}, {delegates} delegates: building the congress" + (f" (secret, {secret})" if secret else ""))
    url = new_database(kind, folder)
    try:
        setup = build(url, delegates, secret)
        server = ServerProcess(url, folder / f"server-{kind}-{delegates}.log")
        try:
            progress(f"{kind}, {delegates} delegates: signing in and connecting from {clients} client processes")
            spawn = mp.get_context("spawn")
            barrier, results = spawn.Barrier(clients + 1), spawn.Queue()
            slices = [setup.codes[i::clients] for i in range(clients)]
            procs = [spawn.Process(target=client_process, args=(
                ClientJob(server.url, setup.congress_id, setup.vote_id, setup.question_id, part, seed, setup.vote), barrier,
                results)) for seed, part in enumerate(slices)]
            for p in procs:
                p.start()
            barrier.wait(900)  # everyone signed in and connected
            if profile is not None:  # py-spy (pip install py-spy) samples the server during the burst
                subprocess.Popen(["py-spy", "record", "--pid", str(server.process.pid), "--duration", "15",
                                  "--rate", "100", "--format", "raw", "--nonblocking",
                                  "-o", str(profile / f"server-{kind}-{delegates}.txt")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            reports = [results.get(timeout=900) for _ in procs]
            load = os.getloadavg()[0]
            for p in procs:
                p.join(60)
        finally:
            server.stop()
        errors = [r["error"] for r in reports if "error" in r]
        if errors:
            raise RuntimeError(f"client failed: {errors}")
        t0 = min(r["started"] for r in reports)
        acks = [a for r in reports for a in r["acks"]]
        times = [at - t0 for at, ok in acks if at is not None]
        progress(f"sending took {max(r['sent'] for r in reports) - t0:.3f} s (clients started "
                 f"{max(r['started'] for r in reports) - t0:.3f} s apart); first ack after {min(times):.3f} s")
        recorded = sum(1 for at, ok in acks if ok)
        stored = stored_ballots(url, setup.vote_id)
        all_acked = max(times) if len(times) == delegates else float("nan")
        decrypt = None
        if secret:
            progress(f"{kind}, {delegates} delegates: closing, two trustees decrypt the 7 groups' sums")
            decrypt, result = decrypt_by_two_trustees(setup)
            if result is None or result["cast"] != stored:
                raise RuntimeError(f"decryption gave {result and result['cast']} ballots, {stored} stored")
        return Row(kind, delegates, clients, all_acked, percentile(times, 0.5), percentile(times, 0.99),
                   delegates / all_acked, recorded, stored, load, f"sealed {secret}" if secret else "named yes/no",
                   decrypt)
    finally:
        drop_database(url)


def table(rows: list[Row]) -> str:
    secret = any(r.decrypt is not None for r in rows)
    lines = ["| database | delegates | client processes | all acknowledged | ack p50 | ack p99 | ballots/s "
             "| acked / stored | load avg |" + (" ballot | trustees decrypt |" if secret else ""),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---|---:|" if secret else "")]
    for r in rows:
        lines.append(f"| {r.db} | {r.delegates} | {r.clients} | {r.all_acked:.2f} s | {r.p50 * 1000:.0f} ms "
                     f"| {r.p99 * 1000:.0f} ms | {r.per_second:,.0f} | {r.recorded} / {r.stored} | {r.load:.1f} |"
                     + (f" {r.ballot} | {r.decrypt:.2f} s |" if secret and r.decrypt is not None else ""))
    return "\n".join(lines)


TABLE_START, TABLE_END = "<!-- bench/votes.py table -->", "<!-- /bench/votes.py table -->"


def write_docs(rows: list[Row], command: str, heading: str = "## Ballots") -> None:
    """Put the table into the "## Ballots" section of docs/performance.md, between its table markers
    (the prose around them is kept); the other sections of the file are other benchmarks'."""
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    block = "\n".join([TABLE_START, "", f"`{command}` — {machine}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
                       table(rows), "", TABLE_END])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n" + block + "\n"
    else:
        end = text.find("\n## ", start + 1)
        end = len(text) if end == -1 else end + 1
        section = text[start:end]
        if TABLE_START in section and TABLE_END in section:
            section = section[:section.index(TABLE_START)] + block + section[section.index(TABLE_END) + len(TABLE_END):]
        else:
            section = f"{heading}\n\n" + block + "\n\n"
        text = text[:start] + section + text[end:]
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delegates", default="295,3000", help="roster sizes, comma-separated")
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--clients", type=int, default=2, help="client processes (at least 2)")
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the server (raw format)")
    parser.add_argument("--logs", type=Path, help="keep the server logs in this folder")
    parser.add_argument("--secret", help="sealed ballots: yes_no and/or election5, comma-separated")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.delegates.split(",") if s.strip()]
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="congress-bench-") as tmp:
        for secret in [s.strip() for s in args.secret.split(",")] if args.secret else [None]:
            if secret is not None and secret not in SECRET_QUESTIONS:
                parser.error(f"--secret takes {', '.join(SECRET_QUESTIONS)}")
            for kind in kinds:
                for size in sizes:
                    rows.append(run(kind, size, max(2, args.clients), args.logs or Path(tmp), args.profile, secret))
                    print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    if args.write_docs:
        command = "python bench/votes.py " + " ".join(sys.argv[1:])
        write_docs(rows, command.replace(" --write-docs", "").strip(),
                   "## Sealed ballots" if args.secret else "## Ballots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
