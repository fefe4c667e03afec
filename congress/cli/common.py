"""What every subcommand shares: the database address, one congress chosen, the schema checked first,
and `run_action`, which runs an action in one transaction as the command line's staff actor.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import Schema, schema_state, sqlite_path
from congress.db.models import Congress
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.settings import Settings

CLI_ACTOR = Actor(role=Role.STAFF, name="命令行")


def database_url(args: argparse.Namespace) -> str:
    return getattr(args, "database_url", None) or Settings.from_env().database_url


def run_action(url: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one action in one transaction, as the local operator (whoever can reach the database)."""
    db = Database(url)
    try:
        with db.write() as session:
            return fn(Context(session, CLI_ACTOR, system_clock()), *args, **kwargs)
    finally:
        db.dispose()


DEMO_DATABASE_FILE = "congress-demo.db"


def require_schema(url: str) -> None:
    """Commands that read or change a congress need the tables: without them, say so in one line
    and create nothing (not even the SQLite file, which connecting would create)."""
    try:
        state = schema_state(url)
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DomainError("no_database", f"无法连接数据库 {safe_url(url)}：{reason}") from None
    if state is Schema.CURRENT:
        return
    if state is Schema.OTHER:
        raise DomainError("old_schema", f"数据库 {safe_url(url)} 的结构与本程序的版本不一致：请先运行 congress db upgrade")
    demo = Path.cwd() / DEMO_DATABASE_FILE
    hint = (f"，或用 --database-url sqlite:///{demo} 指向示例数据库"
            if demo.exists() and sqlite_path(url) != demo else "，或用 --database-url 指向已有的数据库")
    where = f"数据库文件 {sqlite_path(url)} 不存在" if state is Schema.NO_FILE else f"数据库 {safe_url(url)} 还没有建表"
    raise DomainError("no_schema", f"{where}：请先运行 congress db upgrade{hint}")


def one_congress(url: str, congress_id: int | None) -> int:
    require_schema(url)
    if congress_id is not None:
        return congress_id
    db = Database(url)
    try:
        with db.read() as session:
            ids = list(session.scalars(sa.select(Congress.id)))
    finally:
        db.dispose()
    if len(ids) != 1:
        raise DomainError("congress_required",
                          "数据库中没有职代会，请先运行 congress new" if not ids
                          else f"数据库中有 {len(ids)} 次职代会，请用 --congress 指定编号")
    return ids[0]


def safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database)"
