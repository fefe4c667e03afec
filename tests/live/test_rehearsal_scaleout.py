"""`congress rehearse` as the go/no-go check: a small rehearsal across two server workers that
share one PostgreSQL database and exchange events through Redis (clients split over both), and
one against a single server on SQLite. Real processes throughout: `congress serve`, the
rehearsal's client processes, real sockets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from congress.client.http import NotARehearsal, StaffHttp
from congress.ops.server_process import ServerProcess
from tests.conftest import REDIS_URL, create_pg_database, drop_pg_database, require_redis

DEPARTMENT = "演练承办部门"


def congress_cli(database_url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "congress.cli", "--database-url", database_url, *args],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def bootstrap(database_url: str) -> tuple[str, str]:
    """Staff credentials (the printed one-time password) and the department proposals go to."""
    out = congress_cli(database_url, "staff", "add", "rehearsal")
    password = next(line for line in out.splitlines() if "初始密码" in line).split("：", 1)[1].strip()
    congress_cli(database_url, "department", "add", DEPARTMENT)
    return "rehearsal", password


@contextmanager
def serving(database_url: str, redis_url: str | None = None) -> Iterator[str]:
    """One `congress serve` process on a free port; yields its base URL."""
    server = ServerProcess(database_url, Path(tempfile.mkdtemp(prefix="rehearsal-serve-")) / "serve.log",
                           redis_url=redis_url)
    try:
        yield server.url
    finally:
        server.stop()


def rehearse(urls: list[str], credentials: tuple[str, str], *flags: str) -> tuple[int, dict]:
    env = {**os.environ, "CONGRESS_STAFF_LOGIN": credentials[0], "CONGRESS_STAFF_PASSWORD": credentials[1]}
    done = subprocess.run([sys.executable, "-m", "congress.cli", "rehearse", "--urls", ",".join(urls), "--json",
                           "--vote-spread", "2", *flags], capture_output=True, text=True, timeout=300, env=env)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.returncode, report


def assert_clean(report: dict) -> None:
    integrity = report["integrity"]
    assert report["problems"] == [], (report["problems"], report["errors"]["examples"])
    assert integrity["lost"] == 0 and integrity["duplicated"] == 0 and integrity["leaked"] == 0, integrity
    assert integrity["clients_failed"] == 0 and integrity["staff_ledger"]["gaps"] == 0, integrity
    assert report["tallies"]["mismatches"] == 0 and all(v["tally_matches"] for v in report["votes"])
    assert report["errors"]["unexpected"] == 0, report["errors"]


def test_rehearsal_across_two_workers_on_postgres_and_redis_loses_nothing_and_tallies_match():
    require_redis()
    database_url = create_pg_database()
    try:
        credentials = bootstrap(database_url)
        with serving(database_url, REDIS_URL) as first, serving(database_url, REDIS_URL) as second:
            status, report = rehearse([first, second], credentials, "--delegates", "40", "--groups", "3",
                                      "--observers", "200", "--hand-counted-groups", "1", "--drop-rate", "0.05",
                                      "--proposals", "5")
        assert status == 0, (report.get("problems"), report.get("errors", {}).get("examples")) or report
        assert_clean(report)
        assert report["scale"]["urls"] == 2 and report["target"]["is_rehearsal"] is True
        assert report["observers"]["connected"] == 200 and report["check_in"]["checked_in"] == 41
        assert len(report["server"]["pids"]) == 2  # both workers found and sampled
        assert report["drops"]["planned"] > 0 and report["drops"]["resumes"] >= report["drops"]["planned"]
        hand = [v for v in report["votes"] if v["hand_counts"] == 1]
        assert len(hand) == len(report["votes"]) == 3
        assert report["proposals"]["filed"] == 5 and report["proposals"]["assigned"] >= 4
    finally:
        drop_pg_database(database_url)


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, tuple[str, str]]]:
    database_url = f"sqlite:///{Path(tmp_path_factory.mktemp('rehearsal')) / 'congress.db'}"
    credentials = bootstrap(database_url)
    with serving(database_url) as url:
        yield url, database_url, credentials


def test_rehearsal_against_one_sqlite_server_passes_with_a_reconnect_storm(sqlite_server):
    url, _, credentials = sqlite_server
    status, report = rehearse([url], credentials, "--delegates", "30", "--groups", "3", "--observers", "100",
                              "--hand-counted-groups", "1", "--drop-rate", "0.05", "--proposals", "3",
                              "--votes", "2", "--reconnect-storm")
    assert status == 0, (report.get("problems"), report.get("errors", {}).get("examples")) or report
    assert_clean(report)
    assert report["storm"]["resynced"] == report["storm"]["observers"] == 100
    assert report["server"]["sampled"] is True  # found through /proc/net/tcp by its port


def test_rehearsal_refuses_to_touch_a_congress_that_is_not_a_rehearsal(sqlite_server):
    url, database_url, credentials = sqlite_server
    created = json.loads(congress_cli(database_url, "new", "第十届职代会第三次会议", "--groups", "主会场,长沙", "--json"))
    staff = StaffHttp(url, *credentials)
    with pytest.raises(NotARehearsal):
        staff.guard(created["id"])
    with pytest.raises(NotARehearsal):
        staff.import_roster(created["id"], b"employee_id,name,gender,group,unit,role,is_group_leader,delegate_type\n")
    with pytest.raises(NotARehearsal):
        staff.command(created["id"], "add_agenda_item", kind="审议", title="不应出现")
    snapshot = staff.state(created["id"])["snapshot"]
    assert snapshot["agenda"] == [] and snapshot["attendance"]["eligible"] == 0
