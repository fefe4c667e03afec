"""The backup and restore drill (issue 17, point 5), on SQLite and PostgreSQL, as docs/deploy.md §6 tells
operators: `congress backup FILE` taken while delegates are casting ballots (the server is not stopped),
restored into a fresh database (PostgreSQL: createdb + pg_restore; SQLite: the backup file is the
database), then `congress verify --db <restored> --congress N`, the real CLI in a subprocess: it passes,
and the restored log is a prefix of the live one, taken mid-session (ballots acknowledged before the
backup are in it; ballots cast after it are not)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import BallotCast, Event
from congress.ops.backup import libpq_env
from congress.ops.server_process import ROOT, ServerProcess
from tests.conftest import IN_CI, create_pg_database, drop_pg_database
from tests.story import GROUPS, LiveClient, build_story, main_hall_roster, open_pay_vote

pytestmark = pytest.mark.anyio

DELEGATES = 40


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def congress_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "congress.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def chain(url: str, congress_id: int) -> list[tuple[int, str]]:
    db = Database(url)
    try:
        with db.read() as session:
            return [(seq, digest) for seq, digest in session.execute(
                sa.select(Event.seq, Event.hash).where(Event.congress_id == congress_id).order_by(Event.seq))]
    finally:
        db.dispose()


def casts(url: str, vote_id: int) -> set[int]:
    db = Database(url)
    try:
        with db.read() as session:
            return set(session.scalars(sa.select(BallotCast.delegate_id).where(BallotCast.vote_id == vote_id)))
    finally:
        db.dispose()


def restore(kind: str, backup: Path, folder: Path) -> str:
    """Into a fresh database, as the docs say; returns its URL."""
    if kind == "sqlite":
        target = folder / "restored.db"
        shutil.copyfile(backup, target)  # the backup is a whole database in one file, nothing live about it
        return f"sqlite:///{target}"
    if shutil.which("pg_restore") is None:
        if IN_CI:
            pytest.fail("pg_restore is not installed")
        pytest.skip("pg_restore is not installed")
    url = create_pg_database()  # createdb
    result = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq_env(url)["PGDATABASE"],
                             str(backup)], env={**libpq_env(url)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_backup_taken_mid_vote_restores_and_verifies(kind: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}" if kind == "sqlite" else create_pg_database()
    restored: str | None = None
    server: ServerProcess | None = None
    clients: list[LiveClient] = []
    try:
        upgrade(url)
        db = Database(url)
        story = build_story(db, roster=main_hall_roster(), groups=GROUPS[:1])
        voting = story.voting()[:DELEGATES]
        vote, question = open_pay_vote(db, story)
        db.dispose()
        server = ServerProcess(url, tmp_path / "server.log")
        async with httpx.AsyncClient(timeout=60) as http:
            async def sign_in(d) -> str:  # type: ignore[no-untyped-def]
                response = await http.post(f"{server.url}/api/sign-in", json={
                    "employee_id": d.employee_id, "code": story.codes[d.employee_id], "congress_id": story.congress_id})
                response.raise_for_status()
                return response.cookies["congress_session"]

            cookies = await asyncio.gather(*(sign_in(d) for d in voting))
        clients = [LiveClient(server.ws_url, story.congress_id, c) for c in cookies]
        await asyncio.gather(*(c.connect() for c in clients))

        async def cast(n: int) -> None:
            reply = await clients[n].command("cast_ballot", command_id=f"ballot-{n}", vote_id=vote["id"],
                                             answers={question: "yes"})
            assert reply["msg"] == "ack", reply

        during: list[int] = []
        backing_up = asyncio.Event()

        async def keep_casting() -> None:
            """One ballot after another while the backup runs (it is a subprocess: a few seconds)."""
            for n in range(10, DELEGATES - 5):
                if backing_up.is_set():
                    return
                await cast(n)
                during.append(n)
                await asyncio.sleep(0.1)

        before = range(0, 10)
        await asyncio.gather(*(cast(n) for n in before))  # acknowledged before the backup starts
        output = tmp_path / f"congress-mid-vote.{'db' if kind == 'sqlite' else 'dump'}"
        began = time.monotonic()
        casting = asyncio.create_task(keep_casting())  # ballots keep coming during the backup
        made = await asyncio.to_thread(congress_cli, "--database-url", url, "backup", str(output))
        backup_seconds = time.monotonic() - began
        backing_up.set()
        await casting
        after = range(10 + len(during), DELEGATES)
        await asyncio.gather(*(cast(n) for n in after))  # and after it
        assert during and after, (during, after)
        assert made.returncode == 0, made.stderr
        assert "备份完成" in made.stdout and output.exists()

        began = time.monotonic()
        restored = restore(kind, output, tmp_path)
        restore_seconds = time.monotonic() - began
        began = time.monotonic()
        verified = congress_cli("verify", "--db", restored, "--congress", str(story.congress_id))
        verify_seconds = time.monotonic() - began
        assert verified.returncode == 0, verified.stdout + verified.stderr

        live, copy = chain(url, story.congress_id), chain(restored, story.congress_id)
        assert copy == live[:len(copy)]  # the restored record is the live one up to the backup's moment
        assert len(copy) < len(live)  # taken mid-session: the vote went on after it
        ids = {d.id: n for n, d in enumerate(voting)}
        in_backup = {ids[d] for d in casts(restored, vote["id"])}
        assert set(before) <= in_backup  # every ballot acknowledged before the backup is in it
        assert not in_backup & set(after)  # none cast after it
        assert casts(url, vote["id"]) == set(ids)  # and the live vote lost nothing meanwhile
        print(f"\n{kind}: backup {backup_seconds:.2f} s ({output.stat().st_size:,} bytes, "
              f"{len(in_backup)} of {DELEGATES} ballots, {len(during)} acknowledged while it ran, head seq {copy[-1][0]} of {live[-1][0]}); "
              f"restore {restore_seconds:.2f} s; congress verify {verify_seconds:.2f} s: "
              f"{verified.stdout.strip().splitlines()[0]}")
    finally:
        for client in clients:
            await client.close()
        if server is not None:
            server.stop()
        if kind == "postgresql":
            drop_pg_database(url)
            if restored is not None:
                drop_pg_database(restored)


def test_backup_refuses_to_overwrite_a_file_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    existing = tmp_path / "yesterday.db"
    existing.write_bytes(b"yesterday's backup")
    refused = congress_cli("--database-url", url, "backup", str(existing))
    assert refused.returncode == 2 and "已存在" in refused.stderr and str(existing) in refused.stderr
    assert existing.read_bytes() == b"yesterday's backup"  # nothing changed
    missing = congress_cli("--database-url", f"sqlite:///{tmp_path / 'no-such.db'}", "backup",
                           str(tmp_path / "out.db"))
    assert missing.returncode == 2 and "no-such.db" in missing.stderr and "不存在" in missing.stderr
    assert not (tmp_path / "out.db").exists() and not (tmp_path / "out.db.partial").exists()
