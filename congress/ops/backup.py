"""A consistent backup of a running congress's database, without stopping it (docs/deploy.md §6).

PostgreSQL: `pg_dump -Fc` reads in one snapshot transaction, so the dump is the database at one
moment while ballots go on being committed; restore with `createdb` + `pg_restore`.
SQLite: never `cp` a live database in WAL mode (the recent commits sit in the -wal file, and a copy
taken mid-checkpoint is torn); SQLite's online backup API copies the pages under one read
transaction, and the result is a single self-contained file (no -wal) that is itself a database.
Either way the new file appears only when complete (written beside it, then renamed), and what it
holds is said: each congress's head (last seq) at the moment of the backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.models import Congress


class BackupRefused(Exception):
    """Nothing was written: the message says what is wrong."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    heads: dict[int, int]  # congress id -> last seq in the backup


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///…` URL (None for another database)."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("内存中的 SQLite 数据库无法备份：请给出数据库文件")
    return Path(parsed.database)


def libpq_env(url: str) -> dict[str, str]:
    """A SQLAlchemy PostgreSQL URL as libpq's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise BackupRefused(f"不支持备份这种数据库：{parsed.drivername}（支持 PostgreSQL 与 SQLite）")
    values = {"PGHOST": parsed.host or parsed.query.get("host"), "PGPORT": parsed.port,
              "PGUSER": parsed.username, "PGPASSWORD": parsed.password, "PGDATABASE": parsed.database}
    return {name: str(value) for name, value in values.items() if value}


def heads_of(url: str) -> dict[int, int]:
    db = Database(url)
    try:
        with db.read() as session:
            return {cid: seq for cid, seq in session.execute(sa.select(Congress.id, Congress.last_seq))}
    finally:
        db.dispose()


def backup(url: str, out: Path) -> Backup:
    """Write a consistent backup of the database at `url` to `out` (which must not exist yet)."""
    if out.exists():
        raise BackupRefused(f"{out} 已存在：备份不覆盖已有文件，请换一个文件名")
    if not out.parent.is_dir():
        raise BackupRefused(f"目录 {out.parent} 不存在")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite_path(url)
    try:
        if source is not None:
            _backup_sqlite(source, partial)
        else:
            _backup_postgres(url, partial)
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)
    heads = heads_of(f"sqlite:///{out}") if source is not None else {}
    return Backup(out, out.stat().st_size, heads)


def _backup_sqlite(source: Path, partial: Path) -> None:
    if not source.is_file():
        raise BackupRefused(f"数据库文件 {source} 不存在")
    # Read-only: a backup never writes to the live database (the WAL's -shm is shared, not changed)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as live:
        target = sqlite3.connect(partial)
        try:
            live.backup(target)  # all pages in one step: one read transaction, one moment
            target.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal beside it
            problems = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
    live.close()
    if problems != "ok":
        raise BackupRefused(f"备份文件未通过完整性检查：{problems}")


def _backup_postgres(url: str, partial: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupRefused("找不到 pg_dump：请安装 PostgreSQL 客户端（apt install postgresql-client）")
    # The connection (with any password) goes through libpq's environment, never the command line (ps)
    result = subprocess.run([pg_dump, "-Fc", "--no-owner", "--file", str(partial)],
                            env={**os.environ, **libpq_env(url)}, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupRefused(f"pg_dump 失败：{result.stderr.strip()}")
