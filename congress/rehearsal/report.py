"""Showing a rehearsal: progress while it runs (rich bars, or plain lines with --json), the report
at the end (a readable summary, or the JSON document), and the exit status."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class RichUI:
    """Progress bars on stderr, one per phase."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.tasks: dict[str, Any] = {}
        self.finished: set[str] = set()

    def __enter__(self) -> RichUI:
        self.progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.progress.stop()

    def phase(self, key: str, title: str, total: int | None) -> None:
        self.tasks[key] = self.progress.add_task(title, total=total)

    def advance(self, key: str, n: int) -> None:
        task = self.tasks.get(key)
        if task is not None and key not in self.finished:  # late counts after the phase closed
            self.progress.advance(task, n)

    def done(self, key: str, summary: str) -> None:
        self.finished.add(key)
        task = self.tasks.get(key)
        if task is not None:
            total = self.progress.tasks[task].total
            if total is not None:
                self.progress.update(task, completed=total)
            else:
                self.progress.update(task, total=1, completed=1)
        self.progress.console.print(f"  [green]✓[/] {summary}")

    def note(self, text: str) -> None:
        self.progress.console.print(f"  {text}")


class PlainUI:
    """Plain progress lines on stderr (stdout carries the JSON report)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}
        self.titles: dict[str, str] = {}
        self.last = 0.0
        self.started = time.monotonic()

    def __enter__(self) -> PlainUI:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def _line(self, text: str) -> None:
        print(f"[rehearse {time.monotonic() - self.started:7.1f}s] {text}", file=sys.stderr, flush=True)

    def phase(self, key: str, title: str, total: int | None) -> None:
        self.counts[key], self.totals[key], self.titles[key] = 0, total, title
        self._line(f"{title} …")

    def advance(self, key: str, n: int) -> None:
        if key not in self.counts:
            return
        self.counts[key] += n
        now = time.monotonic()
        if now - self.last >= 5:
            self.last = now
            total = self.totals.get(key)
            self._line(f"{self.titles[key]}: {self.counts[key]}" + (f"/{total}" if total else ""))

    def done(self, key: str, summary: str) -> None:
        self._line(f"✓ {summary}")

    def note(self, text: str) -> None:
        self._line(text)


def exit_status(report: dict[str, Any]) -> int:
    return 0 if report.get("ok") else 1


def print_json(report: dict[str, Any]) -> None:
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))


def print_report(report: dict[str, Any]) -> None:
    console = Console()
    verdict = "[bold green]GO — 演练通过[/]" if report.get("ok") else "[bold red]NO-GO — 演练未通过[/]"
    target = report.get("target", {})
    scale = report.get("scale", {})
    console.rule(f"职代会演练 rehearsal report — congress {target.get('congress_id')}")
    console.print(f"{scale.get('voting')} voting + {scale.get('non_voting')} non-voting delegates in "
                  f"{scale.get('groups')} groups (hand-counted: {', '.join(scale.get('hand_counted_groups', [])) or '—'}), "
                  f"{scale.get('observers')} observers, {scale.get('proposals')} proposals, drop rate "
                  f"{scale.get('drop_rate')}, {len(target.get('urls', []))} server URL(s), "
                  f"{report.get('clients', {}).get('processes')} client processes, {report.get('duration_seconds')} s")
    ci = report.get("check_in", {})
    console.print(f"check-in: {ci.get('checked_in')}/{ci.get('of')} in {ci.get('seconds')} s "
                  f"(sign-in p50 {ci.get('sign_in_p50_ms')} ms, check_in ack p50 {ci.get('check_in_ack_p50_ms')} ms)")
    votes = Table("vote", "ballots", "hand", "open→last ack", "ack p99", "drops", "tally")
    for v in report.get("votes", []):
        votes.add_row(f"{v['vote_id']}" + (" secret" if v["is_secret"] else ""),
                      f"{v['ballots']}/{v['of']}", str(v["hand_counts"]), f"{v['open_to_last_ack_seconds']} s",
                      f"{v['ballot_ack_p99_ms']} ms", str(v["drops"]), "matches" if v["tally_matches"] else "MISMATCH")
    console.print(votes)
    d = report.get("delivery", {})
    console.print(f"delivery to observers (command sent → observer received): p50 {d.get('p50_ms')} ms, "
                  f"p99 {d.get('p99_ms')} ms, max {d.get('max_ms')} ms over {d.get('measured')} deliveries "
                  f"({d.get('after_resume')} more arrived in resume backlogs); event's server time → observer "
                  f"p50 {d.get('server_time_to_observer', {}).get('p50_ms')} ms, p99 "
                  f"{d.get('server_time_to_observer', {}).get('p99_ms')} ms")
    by_type = Table("event", "n", "p50 ms", "p99 ms", "max ms")
    for etype, row in d.get("by_type", {}).items():
        by_type.add_row(etype, str(row["n"]), str(row["p50_ms"]), str(row["p99_ms"]), str(row["max_ms"]))
    console.print(by_type)
    i = report.get("integrity", {})
    console.print(f"integrity: {i.get('public_events')} public events, {i.get('clients_checked')} clients, "
                  f"{i.get('expected_deliveries')} deliveries expected: lost {i.get('lost')}, duplicated "
                  f"{i.get('duplicated')}, leaked {i.get('leaked')}, out of order {i.get('out_of_order')}; staff "
                  f"ledger gaps {i.get('staff_ledger', {}).get('gaps')}")
    dr = report.get("drops", {})
    console.print(f"drops: {dr.get('planned')} planned, {dr.get('resumes')} resumes, {dr.get('resends')} commands "
                  f"resent, resync p99 {dr.get('resync_p99_seconds')} s, closes {dr.get('closes')}")
    if "proposals" in report:
        p = report["proposals"]
        console.print(f"proposals: {p['filed']}/{p['planned']} filed in {p['filing_seconds']} s; {p['decided']} "
                      f"decided {p['decisions']}, {p['assigned']} assigned in {p['triage_seconds']} s")
    if "storm" in report:
        s = report["storm"]
        console.print(f"reconnect storm: {s['resynced']}/{s['observers']} observers resynchronised in "
                      f"{s['seconds']} s (p50 {s['p50_seconds']} s)")
    for f in report.get("faults", []):
        rec, late = f.get("recovery", {}), f.get("acks_delayed", {})
        console.print(f"fault {f['fault']}: injected {f.get('injected_seconds_into_vote')} s into the vote for "
                      f"{f.get('lasted_seconds')} s; commands again after {rec.get('commands_seconds')} s, every "
                      f"client back after {rec.get('clients_seconds')} s ({rec.get('clients_lost_connection')} lost "
                      f"their connection, {rec.get('clients_still_away')} still away); {late.get('count')} "
                      f"acknowledgements delayed (slowest {late.get('slowest_ms')} ms), "
                      f"{f.get('commands_resent_after_unavailable')} commands resent after `unavailable`")
    e = report.get("errors", {})
    console.print(f"errors: {e.get('unexpected')} unexpected {e.get('by_code') or ''}, "
                  f"{e.get('expected_refusals')} expected refusals")
    server = report.get("server", {})
    if server.get("sampled"):
        console.print(f"server {server['pids']}: CPU avg {server['cpu_percent_avg']} %, p90 "
                      f"{server['cpu_percent_p90']} %, max {server['cpu_percent_max']} %, RSS max "
                      f"{server['rss_mb_max']} MB; per phase {server.get('phases')}")
    else:
        console.print("server: not on this machine (no CPU/memory figures)")
    m = report.get("machine", {})
    console.print(f"machine: {m.get('cpus')} CPUs, {m.get('busy_percent_avg')} % busy on average, load "
                  f"{m.get('loadavg_start')} → {m.get('loadavg_end')}")
    c = report.get("clients", {})
    console.print(f"clients: {c.get('processes')} processes, {c.get('cpu_seconds')} CPU s, max "
                  f"{c.get('max_open_files_per_process')} open files per process")
    for problem in report.get("problems", []):
        console.print(f"[red]✗ {problem}[/]")
    for example in report.get("integrity", {}).get("examples", [])[:5]:
        console.print(f"  {example}")
    for error in e.get("examples", [])[:5]:
        console.print(f"  {error}")
    targets = report.get("targets", {})
    console.print("targets: " + ", ".join(f"{k} {'✓' if v else '✗'}" for k, v in targets.items()))
    console.print(verdict)
