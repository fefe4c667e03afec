"""A PostgreSQL cluster and a Redis server of a test's own, on free ports: a test that stops, restarts
or breaks them disturbs nothing else on the machine (the shared 127.0.0.1:5432 and :6379 stay up).
Missing tools fail the test under CI=true and skip it elsewhere.

Fixtures: `postgres` (a started private cluster) and `private_redis` (a started private Redis); import
them into a test module (`from tests.private_services import postgres  # noqa: F401`)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from congress.ops.server_process import end_process, free_port
from tests.conftest import IN_CI


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def require_pg_bin() -> Path:
    found = pg_bin()
    if found is None:
        if IN_CI:
            pytest.fail("PostgreSQL's initdb and pg_ctl are not installed under /usr/lib/postgresql")
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    return found


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: initdb in a folder of its own, pg_ctl on a free port.
    As root (CI, this machine) the server runs as the `postgres` user, which initdb requires."""

    def __init__(self, folder: Path) -> None:
        self.bin = require_pg_bin()
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def command(self, tool: str, *args: str) -> list[str]:
        """The argv that runs a PostgreSQL tool on this cluster (as the postgres user when root)."""
        argv = [str(self.bin / tool), *args]
        return ["runuser", "-u", "postgres", "--", *argv] if self.as_root else argv

    def start_command(self) -> list[str]:
        return self.command("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                            "-o", self._options(), "start")

    def stop_command(self) -> list[str]:
        return self.command("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def _options(self) -> str:
        return f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(self.command(tool, *args), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        subprocess.run(self.start_command(), check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run(self.stop_command(), check=True, capture_output=True, timeout=120)

    def restart(self) -> None:
        """What an operator runs to apply a setting or a minor upgrade: fast shutdown, then start."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-m", "fast", "-w",
                  "-t", "60", "-o", self._options(), "restart")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    require_pg_bin()
    # The postgres user cannot enter pytest's tmp_path (private to root): a folder of its own under /tmp.
    folder = Path(tempfile.mkdtemp(prefix="congress-private-pg-"))
    cluster = PrivatePostgres(folder)
    cluster.start()
    try:
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def require_redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        if IN_CI:
            pytest.fail("redis-server is not installed but CI requires the Redis fault tests to run")
        pytest.skip("redis-server is not installed")
    return found


class PrivateRedis:
    """redis-server on a free port; no snapshots, no append-only file (a pub/sub backplane keeps nothing).
    The port is chosen at construction: a test may start it later, or stop and start it again."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_redis_server()
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            end_process(self.process, signal.SIGTERM, 10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
