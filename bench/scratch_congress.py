"""What the load benchmarks share to set up (not measured): a throwaway database on SQLite or
PostgreSQL, a generated roster, progress lines on stderr. Imported by bench/flood.py and
bench/watch_flood.py, which run as scripts from this folder."""

from __future__ import annotations

import csv
import io
import os
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("CONGRESS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
GROUPS = ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]


def progress(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


def roster_csv(delegates: int, groups: list[str] = GROUPS) -> bytes:
    """`delegates` voting delegates spread over `groups`, the first of each group its leader."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["employee_id", "name", "gender", "group", "unit", "role", "is_group_leader", "delegate_type"])
    for i in range(delegates):
        group = groups[i % len(groups)]
        writer.writerow([f"E{10000 + i:05d}", f"代表{i:05d}", "男" if i % 3 else "女", group, f"{group}一车间",
                         "一线职工", 1 if i < len(groups) else 0, "正式代表"])
    return out.getvalue().encode("utf-8")


def new_database(kind: str, folder: Path, prefix: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{prefix}-{uuid.uuid4().hex[:8]}.db'}"
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
