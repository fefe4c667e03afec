"""Benchmark: what filing proposals costs the writer, per command, inside its group commit.

    python bench/filing.py [--proposals 60] [--rounds 5] [--db sqlite,postgresql] [--statements] [--reads]

In a filing burst every command of a group commit waits for the slowest, and its events leave only
after the commit: the writer's cost per command is what the story's rehearsal sees as the filing
burst's delivery time (docs/performance.md, Rehearsal). This measures that cost alone, without
clients or fan-out: a fresh database at head, the story's congress (7 groups, 305 delegates), then
per round P proposals filed as the rehearsal files them, each step one batch of P commands
through the real writer (`Service._commit_batch`: one transaction, a SAVEPOINT per command):
draft, invite two co-signers, 2 × P co-signs, submit. A submission's category suggestion is
prepared before its batch, as `Service.run` does (not timed: it runs on a reader thread).

Printed per database: milliseconds per command for each step (median over the rounds after the
first, which warms the caches) and, with --statements, the SQL statements each step runs. With
--reads, also two reads afterwards, median of 5: the staff's review queue (`triage`: every proposal
filed, each with its category suggestion and the proposals most like it), and the public board as
an observer's page opens it (`proposal_board`: the first read after a change, then the next ones).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.votes import drop_database, new_database  # noqa: E402
from congress.application.auth import delegate_actor  # noqa: E402
from congress.application.commands import COMMANDS, load_all  # noqa: E402
from congress.application.service import Service, _Job  # noqa: E402
from congress.db.engine import Database  # noqa: E402
from congress.db.migrate import upgrade  # noqa: E402
from congress.domain.commands import parse_args  # noqa: E402
from congress.live.backplane import make_backplane  # noqa: E402
from congress.live.hub import Hub  # noqa: E402
from congress.reads.suggestions import warm_categoriser  # noqa: E402
from tests.story import build_story  # noqa: E402

STEPS = ("draft_proposal", "invite_cosigners", "answer_cosign", "submit_proposal")
TITLE = "关于第{n}号夜班食堂供应热饭的建议"
REASON = "夜班职工凌晨下班时食堂已关门，只能吃泡面，影响身体健康和工作积极性。"
SUGGESTION = "建议食堂为夜班提供热饭或夜宵窗口，并延长营业时间到凌晨两点。"


class Filing:
    def __init__(self, url: str, proposals: int, count_statements: bool) -> None:
        upgrade(url)
        self.db = Database(url)
        self.story = build_story(self.db, with_codes=False)
        with self.db.read() as session:
            warm_categoriser(session)
        self.service = Service(self.db, Hub(fetch_missing=None), make_backplane(None, self.db))  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.proposals = proposals
        self.voting = self.story.voting()
        self.rng = random.Random(1)
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, Counter[str]] = defaultdict(Counter)
        self.step = ""
        self.filed = 0
        if count_statements:
            event.listen(self.db.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        kind = "SAVEPOINT / RELEASE" if "SAVEPOINT" in statement else " ".join(statement.split()[:3])
        self.statements[self.step][kind] += 1

    def batch(self, op: str, items: list[tuple[Any, dict[str, Any]]]) -> list[_Job]:
        command = COMMANDS[op]
        self.step = "prepare"  # on a reader thread in the server: not this step's statements
        jobs = []
        for delegate, body in items:
            actor, args = delegate_actor(delegate), parse_args(command, body)
            prepared = self.service._prepare(command, actor, self.story.congress_id, args) if command.prepare else None
            jobs.append(_Job(actor, command, self.story.congress_id, args, None, self.loop.create_future(), prepared))
        self.step = op
        began = time.perf_counter()
        self.service._commit_batch(jobs)
        self.ms[op].append(1000 * (time.perf_counter() - began) / len(jobs))
        failed = [job.error for job in jobs if job.error is not None]
        if failed:
            raise SystemExit(f"{op}: {len(failed)} of {len(jobs)} refused, e.g. {failed[0]}")
        return jobs

    def round(self) -> None:
        n = self.proposals
        people = self.rng.sample(self.voting, n * 3)
        proposers, cosigners = people[:n], people[n:]
        drafts = self.batch("draft_proposal", [
            (p, {"title": TITLE.format(n=self.filed + i), "reason": REASON, "suggestion": SUGGESTION})
            for i, p in enumerate(proposers)])
        self.filed += n
        ids = [job.reply["id"] for job in drafts if job.reply]
        self.batch("invite_cosigners", [
            (p, {"proposal_id": pid, "employee_ids": [cosigners[2 * i].employee_id, cosigners[2 * i + 1].employee_id]})
            for i, (p, pid) in enumerate(zip(proposers, ids, strict=True))])
        self.batch("answer_cosign", [(cosigners[2 * i + j], {"proposal_id": pid, "accept": True})
                                     for i, pid in enumerate(ids) for j in (0, 1)])
        self.batch("submit_proposal", [(p, {"proposal_id": pid}) for p, pid in zip(proposers, ids, strict=True)])

    def triage_ms(self, reads: int = 5) -> tuple[int, float]:
        from congress.actions.base import Context
        from congress.application.service import system_clock
        from tests.story import SETUP

        times, queued = [], 0
        for _ in range(reads):
            with self.db.read() as session:
                began = time.perf_counter()
                queued = len(COMMANDS["triage"].action(Context(session, SETUP, system_clock()), self.story.congress_id)["proposals"])
                times.append(1000 * (time.perf_counter() - began))
        return queued, statistics.median(times)

    def board_ms(self, reads: int = 5) -> tuple[float, float]:
        """(first read after a change, median of the next reads) of the whole board."""
        from congress.actions.base import Context
        from congress.application.auth import observer_actor
        from congress.application.service import system_clock

        times = []
        for _ in range(reads + 1):
            with self.db.read() as session:
                began = time.perf_counter()
                COMMANDS["proposal_board"].action(Context(session, observer_actor(self.story.congress_id), system_clock()),
                                                  self.story.congress_id, limit=2000)
                times.append(1000 * (time.perf_counter() - began))
        return times[0], statistics.median(times[1:])

    def close(self) -> None:
        self.loop.close()
        self.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=60, help="proposals per round (one batch per step)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default="sqlite", help="sqlite and/or postgresql, comma-separated")
    parser.add_argument("--statements", action="store_true", help="also count the SQL statements per step")
    parser.add_argument("--reads", action="store_true", help="also time the review queue and the board read afterwards")
    args = parser.parse_args()
    load_all()
    print(f"Filing: {args.proposals} proposals a round, {args.rounds} rounds, one batch per step "
          f"(ms per command, median of rounds 2–{args.rounds}; round 1 warms up)")
    print("| database | " + " | ".join(STEPS) + " |")
    print("|---|" + "---:|" * len(STEPS))
    for kind in args.db.split(","):
        url = new_database(kind, Path(tempfile.mkdtemp()))
        filing = Filing(url, args.proposals, args.statements)
        try:
            for r in range(args.rounds):
                print(f"  … {kind}: round {r + 1} of {args.rounds}", file=sys.stderr, flush=True)
                filing.round()
            cells = [f"{statistics.median(filing.ms[op][1:] or filing.ms[op]):.2f}" for op in STEPS]
            print(f"| {kind} | " + " | ".join(cells) + " |")
            if args.statements:
                calls = {"draft_proposal": 1, "invite_cosigners": 1, "answer_cosign": 2, "submit_proposal": 1}
                for op in STEPS:
                    per = args.rounds * args.proposals * calls[op]
                    counted = ", ".join(f"{k} {v / per:.1f}" for k, v in filing.statements[op].most_common())
                    print(f"    {op}: {sum(filing.statements[op].values()) / per:.1f} statements per command "
                          f"({counted})")
            if args.reads:
                queued, ms = filing.triage_ms()
                print(f"    triage: the review queue of {queued} proposals read in {ms:.0f} ms (median of 5)")
                first, next_ = filing.board_ms()
                print(f"    proposal_board: the whole board read in {first:.1f} ms after a change, "
                      f"then {next_:.1f} ms (median of 5)")
        finally:
            filing.close()
            drop_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
