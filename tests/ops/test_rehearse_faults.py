"""`congress rehearse --fault worker|redis|database` against real deployments (issue 17, point 6).

Each test starts `congress serve` processes, runs the real CLI in a subprocess with --json and reads
its report as an operator would: the fault is reported with when it was injected, how long until
commands succeeded again and every client was back, how many acknowledgements it delayed — and
the rehearsal's own integrity checks (every event to every client once and in order, every
acknowledged ballot counted once in the published tally) still pass.

Small numbers (30 delegates, 50 observers, one vote); faults of a few seconds. Redis and the
PostgreSQL whose connections are terminated or which is restarted are private to the test (own
port), so nothing else on the machine is disturbed. The figures each test measured are printed.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from congress.ops.server_process import ROOT, ServerProcess, free_port, serve_argv
from tests.conftest import REDIS_URL, create_pg_database, drop_pg_database, require_redis
from tests.live.test_rehearsal_scaleout import assert_clean, bootstrap
from tests.private_services import PrivatePostgres, PrivateRedis
from tests.private_services import postgres as postgres  # the private cluster fixture
from tests.private_services import private_redis as private_redis  # the private Redis fixture

SCALE = ("--delegates", "30", "--groups", "3", "--observers", "50", "--hand-counted-groups", "1",
         "--votes", "1", "--proposals", "0", "--drop-rate", "0", "--vote-spread", "2", "--processes", "2")


def rehearse(urls: list[str], credentials: tuple[str, str], *flags: str) -> tuple[int, dict, str]:
    env = {**os.environ, "CONGRESS_STAFF_LOGIN": credentials[0], "CONGRESS_STAFF_PASSWORD": credentials[1]}
    done = subprocess.run([sys.executable, "-m", "congress.cli", "rehearse", "--urls", ",".join(urls), "--json",
                           *SCALE, *flags], capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    print(done.stderr[-3000:])  # the rehearsal's progress lines: where the time went
    return done.returncode, report, done.stderr


def the_fault(status: int, report: dict) -> dict:
    """The run passed as a whole, and its one fault was injected and recovered from."""
    assert status == 0, (report.get("problems"), report.get("faults"), report.get("errors", {}).get("examples"),
                         report.get("integrity"))
    assert_clean(report)
    assert report["votes"][0]["ballots"] == report["votes"][0]["of"] > 0
    assert report["integrity"]["clients_behind_at_end"] == 0
    [fault] = report["faults"]
    assert fault["problems"] == [], fault
    assert fault["recovery"]["commands_seconds"] is not None and fault["recovery"]["clients_still_away"] == 0
    assert fault["acks_delayed"]["count"] > 0, fault  # ballots were in flight while it lasted
    print(f"\n{fault['fault']}: {json.dumps(fault, ensure_ascii=False)}")
    return fault


def serve_command(database_url: str, port: int, redis_url: str | None, log: Path) -> str:
    """What an operator's supervisor runs to start the worker on `port` again (here: in the background)."""
    argv = serve_argv(database_url, port, redis_url=redis_url)
    return f"cd {shlex.quote(str(ROOT))} && {shlex.join(argv)} >>{shlex.quote(str(log))} 2>&1 &"


def stop_listening(port: int) -> None:
    """The worker the restart command started (not a child of the test): stopped by its port."""
    from congress.rehearsal.procstat import pids_listening

    for pid in pids_listening(port):
        os.kill(pid, signal.SIGTERM)


def stop_orphans(log: Path) -> None:
    """A signalled server's own child processes (its proof pool, started by the secret vote) outlive
    it, waiting on their pipe: stopped here, found by the server's log file as their stdout."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "fd" / "1") == str(log):
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue


def test_worker_stopped_mid_vote_its_clients_move_to_the_other_worker_and_the_restart_command_brings_it_back(
        tmp_path: Path):
    require_redis()
    database_url = create_pg_database()
    port = free_port()
    try:
        credentials = bootstrap(database_url)
        first = ServerProcess(database_url, tmp_path / "first.log", redis_url=REDIS_URL)
        second = ServerProcess(database_url, tmp_path / "second.log", redis_url=REDIS_URL, port=port)
        try:
            restart = serve_command(database_url, port, REDIS_URL, tmp_path / "restarted.log")
            status, report, _ = rehearse([first.url, second.url], credentials, "--fault", "worker", "--fault-at", "2",
                                         "--fault-for", "3", "--restart-command", restart)
            fault = the_fault(status, report)
            assert fault["fault"] == "worker:term" and fault["signal"] == "SIGTERM"
            assert fault["pid"] == second.process.pid  # found by the last URL's port
            assert second.process.poll() is not None and fault["exited_after_seconds"] is not None
            # half the clients were on the stopped worker: they lost it and reconnected to the other
            assert fault["recovery"]["clients_lost_connection"] > 20 and fault["reconnections_to_another_url"] > 0
            assert fault["restart_command"]["exit"] == 0
            httpx_wait(f"{second.url}/api/congresses", seconds=60)  # the worker is back (starting takes a moment)
        finally:
            first.stop()
            second.stop()
            stop_listening(port)
            stop_orphans(tmp_path / "second.log")
            stop_orphans(tmp_path / "restarted.log")
    finally:
        drop_pg_database(database_url)


def test_worker_killed_with_no_supervisor_its_clients_carry_on_at_the_other_worker(tmp_path: Path):
    require_redis()
    database_url = create_pg_database()
    try:
        credentials = bootstrap(database_url)
        first = ServerProcess(database_url, tmp_path / "first.log", redis_url=REDIS_URL)
        second = ServerProcess(database_url, tmp_path / "second.log", redis_url=REDIS_URL)
        try:
            status, report, _ = rehearse([first.url, second.url], credentials, "--fault", "worker:kill",
                                         "--server-pid", str(second.process.pid), "--fault-at", "2", "--fault-for", "3")
            fault = the_fault(status, report)
            assert fault["fault"] == "worker:kill" and fault["signal"] == "SIGKILL"
            assert fault["pid"] == second.process.pid and second.process.poll() == -signal.SIGKILL
            assert fault["recovery"]["clients_lost_connection"] > 20 and fault["reconnections_to_another_url"] > 0
        finally:
            first.stop()
            second.stop()
            stop_orphans(tmp_path / "second.log")
    finally:
        drop_pg_database(database_url)


@pytest.mark.parametrize("mode", ["pause", "kill"])
def test_redis_hung_or_dropping_connections_mid_vote_loses_nothing_on_either_worker(
        tmp_path: Path, private_redis: PrivateRedis, mode: str):
    database_url = create_pg_database()
    try:
        credentials = bootstrap(database_url)
        first = ServerProcess(database_url, tmp_path / "first.log", redis_url=private_redis.url)
        second = ServerProcess(database_url, tmp_path / "second.log", redis_url=private_redis.url)
        try:
            status, report, _ = rehearse([first.url, second.url], credentials, "--fault", f"redis:{mode}",
                                         "--fault-at", "2", "--fault-for", "5", "--redis-url", private_redis.url)
        finally:
            first.stop()
            second.stop()
        fault = the_fault(status, report)
        assert fault["fault"] == f"redis:{mode}" and 4.5 < fault["lasted_seconds"] < 8
        if mode == "kill":  # both workers' publishing and subscribing connections, again and again
            assert fault["connections_killed"] >= 4 and fault["rounds"] > 10
    finally:
        drop_pg_database(database_url)


def test_postgres_connections_terminated_mid_vote_nothing_acknowledged_is_lost_or_counted_twice(
        tmp_path: Path, postgres: PrivatePostgres):
    credentials = bootstrap(postgres.url)
    server = ServerProcess(postgres.url, tmp_path / "serve.log")
    try:
        status, report, _ = rehearse([server.url], credentials, "--fault", "database", "--fault-at", "2",
                                     "--fault-for", "5", "--database-url", postgres.url)
    finally:
        server.stop()
    fault = the_fault(status, report)
    assert fault["fault"] == "database:terminate" and fault["connections_terminated"] > 0


def test_postgres_restarted_by_the_operators_commands_commands_are_resent_until_it_is_back(
        tmp_path: Path, postgres: PrivatePostgres):
    credentials = bootstrap(postgres.url)
    stop, start = shlex.join(postgres.stop_command()), shlex.join(postgres.start_command())
    server = ServerProcess(postgres.url, tmp_path / "serve.log")
    try:
        status, report, _ = rehearse([server.url], credentials, "--fault", "database", "--fault-at", "2",
                                     "--fault-for", "5", "--fault-command", stop, "--recover-command", start)
    finally:
        server.stop()
    fault = the_fault(status, report)
    assert fault["fault"] == "database:command"
    assert fault["fault_command"]["exit"] == 0 and fault["recover_command"]["exit"] == 0
    assert fault["commands_resent_after_unavailable"] > 0  # refused with `unavailable`, resent with the same id


@pytest.mark.parametrize(("flags", "named"), [
    (("--fault", "redis"), "--redis-url"),
    (("--fault", "database"), "--database-url"),
    (("--fault", "database", "--database-url", "sqlite:///congress.db"), "not supported on SQLite"),
    (("--fault", "redis", "--fault-command", "true"), "--recover-command"),
    (("--fault", "worker:pause"), "worker takes term or kill"),
    (("--fault", "worker", "--url", "http://127.0.0.1:9"), "--server-pid"),
])
def test_a_fault_without_what_it_needs_is_refused_before_anything_starts(flags: tuple[str, ...], named: str):
    env = {**os.environ, "CONGRESS_STAFF_LOGIN": "x", "CONGRESS_STAFF_PASSWORD": "y"}
    urls = [] if "--url" in flags else ["--url", "http://127.0.0.1:9"]
    done = subprocess.run([sys.executable, "-m", "congress.cli", "rehearse", *urls, *flags], capture_output=True,
                          text=True, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 2 and named in done.stderr, done.stderr


def test_a_worker_fault_never_signals_what_is_not_a_congress_server_listening_on_the_url():
    """With nginx (here: any other program) on the URL's port, the process to stop must be named."""
    port = free_port()
    other = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        httpx_wait(f"http://127.0.0.1:{port}/")
        env = {**os.environ, "CONGRESS_STAFF_LOGIN": "x", "CONGRESS_STAFF_PASSWORD": "y"}
        done = subprocess.run([sys.executable, "-m", "congress.cli", "rehearse", "--url", f"http://127.0.0.1:{port}",
                               "--fault", "worker:kill"], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
        assert done.returncode == 2 and "not a congress server" in done.stderr, done.stderr
        assert other.poll() is None  # not signalled
    finally:
        other.terminate()
        other.wait(10)


def httpx_wait(url: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {seconds:.0f} s")
