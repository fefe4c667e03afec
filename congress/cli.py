"""The `congress` command: serve, demo, db upgrade, new, roster import, staff add, account, codes export."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.cli_notices import add_notices_commands
from congress.cli_terms import add_term_commands, cmd_session_new, print_roster_changes
from congress.cli_trustee import add_trustee_commands
from congress.db.engine import Database
from congress.db.migrate import Schema, schema_state, sqlite_path, upgrade
from congress.db.models import Congress
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.permissions import Actor
from congress.service import system_clock
from congress.settings import Settings, websocket_options

CLI_ACTOR = Actor(role=Role.STAFF, name="命令行")


def _database_url(args: argparse.Namespace) -> str:
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


def _require_schema(url: str) -> None:
    """Commands that read or change a congress need the tables: without them, say so in one line
    and create nothing (not even the SQLite file, which connecting would create)."""
    try:
        state = schema_state(url)
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise DomainError("no_database", f"无法连接数据库 {_safe(url)}：{reason}") from None
    if state is Schema.CURRENT:
        return
    if state is Schema.OTHER:
        raise DomainError("old_schema", f"数据库 {_safe(url)} 的结构与本程序的版本不一致：请先运行 congress db upgrade")
    demo = Path.cwd() / DEMO_DATABASE_FILE
    hint = (f"，或用 --database-url sqlite:///{demo} 指向示例数据库"
            if demo.exists() and sqlite_path(url) != demo else "，或用 --database-url 指向已有的数据库")
    where = f"数据库文件 {sqlite_path(url)} 不存在" if state is Schema.NO_FILE else f"数据库 {_safe(url)} 还没有建表"
    raise DomainError("no_schema", f"{where}：请先运行 congress db upgrade{hint}")


def _one_congress(url: str, congress_id: int | None) -> int:
    _require_schema(url)
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


# -- commands -----------------------------------------------------------------------------------
def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = _database_url(args)
    upgrade(url)
    print(f"数据库已升级到最新版本：{_safe(url)}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from congress.actions.setup import create_congress

    url = _database_url(args)
    if args.from_congress is not None:  # the next session of a 届 (congress.cli_terms)
        return cmd_session_new(args)
    if not args.name or not args.groups:
        raise DomainError("bad_field", "请给出职代会名称和 --groups（或用 --from 从上一次会议开始下一次会议）")
    upgrade(url)
    congress = run_action(url, create_congress, args.name, args.groups.replace("，", ",").split(","),
                          is_rehearsal=args.rehearsal)
    summary = {"id": congress.id, "name": congress.name, "groups": [g.strip() for g in args.groups.split(",")]}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"已创建职代会 {congress.id}：{congress.name}（{len(summary['groups'])} 个代表团(组)）")
    return 0


def cmd_roster_import(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from congress.actions.roster import RosterRejected, import_roster

    url = _database_url(args)
    data = Path(args.file).read_bytes()
    congress_id = _one_congress(url, args.congress)
    with Progress(transient=True, disable=args.json or len(data) < 200_000) as bar:
        task = bar.add_task("检查名册", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = run_action(url, import_roster, congress_id, data, Path(args.file).name,
                                 dry_run=args.dry_run, create_groups=args.create_groups, progress=progress)
        except RosterRejected as rejected:
            errors = [{"row": e.row, "column": e.column, "reason": e.reason} for e in rejected.roster.errors]
            if args.json:
                print(json.dumps({"ok": False, "errors": errors}, ensure_ascii=False))
            else:
                print(f"名册未导入：发现 {len(errors)} 处错误（数据库未做任何修改）", file=sys.stderr)
                for e in errors:
                    print(f"  第 {e['row']} 行 {e['column'] or '（整行）'}：{e['reason']}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({"ok": True, **summary}, ensure_ascii=False))
        return 0
    verb = "检查通过（--dry-run，未写入）" if args.dry_run else "已导入"
    print(f"{verb}：正式代表 {summary['voting']} 人，列席/特邀代表 {summary['non_voting']} 人，"
          f"{summary['groups']} 个代表团(组)")
    print(f"  新增 {summary['added']}，更新 {summary['updated']}，未变 {summary['unchanged']}，移除 {summary['removed']}")
    print_roster_changes(summary["changes"])
    for name, counts in summary["per_group"].items():
        print(f"  {name}：正式代表 {counts['voting']}，列席/特邀 {counts['non_voting']}")
    for warning in summary["warnings"]:
        print(f"  提醒：{warning}")
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    from congress.actions.accounts import add_staff

    url = _database_url(args)
    upgrade(url)
    account, password = run_action(url, add_staff, args.name, args.display_name)
    print(f"已创建工作人员账号：{account.login}")
    print(f"初始密码（只显示这一次，请妥善交给本人）：{password}")
    return 0


def cmd_department_add(args: argparse.Namespace) -> int:
    from congress.actions.accounts import add_department

    url = _database_url(args)
    upgrade(url)
    account, password = run_action(url, add_department, args.name, args.login)
    print(f"已创建承办部门账号：{account.login}（{args.name}）")
    print(f"初始密码（只显示这一次）：{password}")
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    """Staff and department accounts: list, reset a password, deactivate, activate, end their sign-ins.
    A server notices ended sign-ins within seconds and closes their open pages (congress.live.access)."""
    from congress.actions import accounts

    url = _database_url(args)
    _require_schema(url)
    action = args.account_command
    if action == "list":
        from congress.actions.account_admin import list_accounts

        db = Database(url)
        try:
            with db.read() as session:
                listed = list_accounts(Context(session, CLI_ACTOR, system_clock()), 0)["accounts"]
        finally:
            db.dispose()
        for a in listed:
            kind = "工作人员" if a["kind"] == "staff" else f"承办部门（{a['department'] or ''}）"
            state = "启用" if a["is_active"] else "已停用"
            print(f"{a['login']}\t{a['display_name']}\t{kind}\t{state}\t在线登录 {a['live_sessions']}")
        return 0
    if action == "reset":
        password = run_action(url, accounts.reset_password, args.login)
        print(f"已重置账号 {args.login.strip()} 的密码，其全部登录已结束")
        print(f"新密码（只显示这一次，请妥善交给本人）：{password}")
        return 0
    if action == "deactivate":
        run_action(url, accounts.deactivate_account, args.login)
        print(f"已停用账号 {args.login.strip()}，其全部登录已结束")
        return 0
    if action == "activate":
        run_action(url, accounts.activate_account, args.login)
        print(f"已重新启用账号 {args.login.strip()}")
        return 0

    def revoke(ctx: Context, login: str) -> int:
        return accounts.revoke_account_sessions(ctx, accounts.find_account(ctx, login))

    ended = run_action(url, revoke, args.login)
    print(f"已结束账号 {args.login.strip()} 的 {ended} 个登录（打开的页面将在几秒内断开）")
    return 0


def cmd_codes_export(args: argparse.Namespace) -> int:
    from congress.actions.accounts import issue_codes
    from congress.exports import codes_csv, write_codes_xlsx

    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    if args.output is None and args.format == "xlsx":
        print("xlsx 需要 --output 文件名", file=sys.stderr)
        return 2
    codes = run_action(url, issue_codes, congress_id, args.employee_id or None, only_missing=args.only_missing)
    if args.format == "xlsx":
        write_codes_xlsx(codes, Path(args.output))
        print(f"已生成 {len(codes)} 位代表的访问码，写入 {args.output}（旧访问码已失效）", file=sys.stderr)
        return 0
    text = codes_csv(codes)  # names and groups stay text in Excel (congress.cells)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8-sig")
        print(f"已生成 {len(codes)} 位代表的访问码，写入 {args.output}（旧访问码已失效）", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_proposals_export(args: argparse.Namespace) -> int:
    from congress.actions.proposal_views import proposal_board
    from congress.exports import write_proposal_register

    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    board = run_action(url, proposal_board, congress_id, limit=2000)
    db = Database(url)
    try:
        with db.read() as session:
            congress = session.get(Congress, congress_id)
            title = f"{congress.name if congress else ''}提案汇总表"
            term_stats = _term_stats(session, congress_id)  # a later session of a 届: its sheets too
    finally:
        db.dispose()
    write_proposal_register(board["proposals"], Path(args.output), title, term_stats)
    print(f"已导出 {len(board['proposals'])} 件提案：{args.output}")
    return 0


def _term_stats(session: Any, congress_id: int) -> dict[str, Any] | None:
    from datetime import datetime

    from congress.domain.time import BEIJING
    from congress.records.term_report import term_statistics_if_sessions

    return term_statistics_if_sessions(session, congress_id, datetime.now(BEIJING).date())


def cmd_proposals_window(args: argparse.Namespace) -> int:
    from congress.actions.setup import set_filing_window

    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    result = run_action(url, set_filing_window, congress_id, args.opens or None, args.closes or None)
    print(f"提案征集：开始 {result['opens_at'] or '不限'}，截止 {result['closes_at'] or '不限'}（职代会 {congress_id}）")
    return 0


def cmd_proposals_report(args: argparse.Namespace) -> int:
    from datetime import datetime

    from congress.domain.time import BEIJING
    from congress.records.minutes import find_cjk_font
    from congress.records.progress_report import parse_day, report_figures, report_pdf, report_xlsx

    day = parse_day(args.date, "--date")
    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    font = find_cjk_font() if args.format == "pdf" else None  # before any work: a missing font is said first
    db = Database(url)
    try:
        with db.read() as session:
            name, figures = report_figures(session, congress_id, day)
            term_stats = _term_stats(session, congress_id) if font is None else None
    finally:
        db.dispose()
    data = (report_pdf(font, name, figures, datetime.now(BEIJING)) if font is not None
            else report_xlsx(name, figures, term_stats))
    output = Path(args.output or f"提案办理情况报告-{day.isoformat()}.{args.format}")
    output.write_bytes(data)
    print(f"截至 {day.isoformat()}：提案 {figures['total']} 件，立案 {figures['cases']} 件，"
          f"已办结 {figures['closed']} 件，超期未答复 {len(figures['overdue'])} 件；已写入 {output}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from congress.records.archive import export_congress, write_archive

    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    db = Database(url)
    try:
        files = export_congress(db, congress_id, system_clock())
    finally:
        db.dispose()
    write_archive(files, Path(args.output))
    head = json.loads(files["manifest.json"])["head"]
    print(f"已导出职代会 {congress_id} 的档案：{args.output}（{len(files)} 个文件）")
    print(f"记录头：第 {head['seq']} 条事件，哈希 {head['hash']}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from congress.ops.backup import BackupRefused, backup

    try:
        made = backup(_database_url(args), Path(args.output))
    except BackupRefused as refused:
        print(f"未备份：{refused}", file=sys.stderr)
        return 2
    heads = "，".join(f"职代会 {cid} 记录到 seq {seq}" for cid, seq in sorted(made.heads.items()))
    print(f"备份完成：{made.path}（{made.size:,} 字节）" + (f"；{heads}" if heads else ""))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from congress.records.archive import export_congress, read_archive
    from congress.records.verify import parse_expect, verify_archive

    expect = [parse_expect(text) for text in args.expect or []]
    if args.db:
        if args.archive:
            print("请只给出档案，或 --db 与 --congress，不要同时给出", file=sys.stderr)
            return 2
        congress_id = _one_congress(args.db, args.congress)
        db = Database(args.db)
        try:
            files = export_congress(db, congress_id, system_clock())
        finally:
            db.dispose()
    elif args.archive:
        files = read_archive(Path(args.archive))
    else:
        print("请给出档案（.zip 或文件夹），或 --db URL --congress 编号", file=sys.stderr)
        return 2
    report = verify_archive(files, expect)
    print(report.text())
    return 0 if report.ok else 1


def cmd_minutes(args: argparse.Namespace) -> int:
    from congress.records.archive import export_congress
    from congress.records.minutes import write_minutes

    url = _database_url(args)
    congress_id = _one_congress(url, args.congress)
    db = Database(url)
    try:
        files = export_congress(db, congress_id, system_clock())
    finally:
        db.dispose()
    outdir = Path(args.outdir)
    written = write_minutes(files, outdir, system_clock())
    register = outdir / "提案汇总表.xlsx"
    cmd_proposals_export(argparse.Namespace(database_url=url, congress=congress_id, format="xlsx",
                                            output=str(register)))
    written.append(register)
    print(f"已生成会议记录 {len(written)} 个文件：{outdir}")
    for path in written:
        print(f"  {path.name}")
    return 0


def _port_taken(host: str, port: int) -> bool:
    """Whether something already listens on host:port (bound as uvicorn binds, SO_REUSEADDR)."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return True
    return False


def _require_free_port(host: str, port: int) -> None:
    if _port_taken(host, port):
        raise DomainError("port_in_use", f"端口 {port} 已被占用（也许另一个 congress demo 或 serve 还在运行）："
                                         "请先停止它，或用 --port 换一个端口")


MIN_METRICS_TOKEN = 16  # characters: a bearer token guessed by no one


def cmd_serve(args: argparse.Namespace) -> int:
    import atexit

    import uvicorn

    from congress.ops import multiprocess

    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    _require_free_port(args.host, args.port)
    redis_url = args.redis_url or settings.redis_url
    token = os.environ.get("CONGRESS_METRICS_TOKEN")
    if token and len(token) < MIN_METRICS_TOKEN:
        print(f"CONGRESS_METRICS_TOKEN 太短（{len(token)} 个字符）：至少 {MIN_METRICS_TOKEN} 个字符，"
              "例如 python -c 'import secrets; print(secrets.token_urlsafe(32))' 生成的", file=sys.stderr)
        return 2
    if args.workers > 1 and not redis_url:
        print("多个工作进程需要 Redis 来共享事件：请设置 CONGRESS_REDIS_URL 或 --redis-url，"
              "或使用 --workers 1", file=sys.stderr)
        return 2
    upgrade(url)
    os.environ["CONGRESS_DATABASE_URL"] = url
    if redis_url:
        os.environ["CONGRESS_REDIS_URL"] = redis_url
    # Several workers: each keeps its metrics in files of one fresh folder, and /metrics adds them up
    # (congress.ops.multiprocess); set before uvicorn spawns them, removed when the server ends.
    metrics_dir, made_here = multiprocess.prepare(args.workers)
    atexit.register(multiprocess.remove, metrics_dir, made_here)
    print(f"congress 服务：http://{args.host}:{args.port}/  （{args.workers} 个工作进程，数据库 {_safe(url)}）")
    uvicorn.run("congress.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, timeout_graceful_shutdown=5, backlog=4096, **websocket_options(settings))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from congress.demo import build_demo, demo_folder, set_demo_stream, start_demo_picture

    url = args.database_url or os.environ.get("CONGRESS_DATABASE_URL") or f"sqlite:///{Path.cwd() / DEMO_DATABASE_FILE}"
    if not args.no_serve:
        _require_free_port(args.host, args.port)  # before the new passwords are printed (and the old ones void)
    # The test picture starts first, so its first segments are there when the server answers; it
    # stops with the server, on Ctrl-C too (and by itself if this process is killed: encoder.py).
    picture = None if args.no_serve else start_demo_picture(demo_folder(url))
    try:
        info = build_demo(url, fresh=not args.keep, base_url=f"http://{args.host}:{args.port}")
        print(info.text())
        if args.no_serve:
            return 0
        print(set_demo_stream(url, info.congress_id, picture), flush=True)
        if picture is not None:
            os.environ["CONGRESS_STREAM_DIR"] = str(picture.folder)
        args.database_url, args.workers, args.redis_url = url, 1, None
        return cmd_serve(args)
    finally:
        if picture is not None:
            picture.stop()


def cmd_rehearse(args: argparse.Namespace) -> int:
    import asyncio

    from congress.rehearsal import Options, rehearse
    from congress.rehearsal.http import HttpFailure, NotARehearsal
    from congress.rehearsal.report import PlainUI, RichUI, exit_status, print_json, print_report
    from congress.rehearsal.scenario import RehearsalAborted

    urls = [u.rstrip("/") for u in (args.url or [])]
    urls += [u.strip().rstrip("/") for u in (args.urls or "").split(",") if u.strip()]
    if not urls:
        print("需要 --url（可重复）或 --urls a,b：目标服务器地址", file=sys.stderr)
        return 2
    login = args.staff_login or os.environ.get("CONGRESS_STAFF_LOGIN")
    password = args.staff_password or os.environ.get("CONGRESS_STAFF_PASSWORD")
    if not login or not password:
        print("需要工作人员账号：--staff-login/--staff-password 或 CONGRESS_STAFF_LOGIN/CONGRESS_STAFF_PASSWORD",
              file=sys.stderr)
        return 2
    options = Options(urls=urls, staff_login=login, staff_password=password, delegates=args.delegates,
                      groups=args.groups, observers=args.observers, proposals=args.proposals,
                      hand_counted_groups=args.hand_counted_groups, drop_rate=args.drop_rate, votes=args.votes,
                      department=args.department, server_pids=args.server_pid or [],
                      reconnect_storm=args.reconnect_storm, processes=args.processes, seed=args.seed,
                      vote_spread=args.vote_spread, compression=not args.no_compression)
    if args.fault:
        try:
            options.fault = _fault_plan(args, urls)
        except ValueError as refused:  # FaultRefused: names the missing flag; nothing was started
            print(f"演练未开始：{refused}", file=sys.stderr)
            return 2
    ui = PlainUI() if args.json else RichUI()
    try:
        with ui:
            report = asyncio.run(rehearse(options, ui))
    except (NotARehearsal, RehearsalAborted, HttpFailure, ValueError, OSError, asyncio.CancelledError) as failure:
        print(f"演练中止：{failure or failure.__class__.__name__}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "aborted": str(failure)}, ensure_ascii=False))
        return 2
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return exit_status(report)


def _fault_plan(args: argparse.Namespace, urls: list[str]) -> Any:
    """The --fault flags as a FaultPlan, checked (what it needs given, its target reachable)."""
    from congress.rehearsal import faults
    from congress.rehearsal.procstat import local_server_pids

    kind, mode = faults.parse_fault(args.fault)
    plan = faults.FaultPlan(kind, mode, at=args.fault_at, duration=args.fault_for, redis_url=args.redis_url,
                              database_url=args.fault_database_url or args.database_url,
                              restart_command=args.restart_command, fault_command=args.fault_command,
                              recover_command=args.recover_command)
    problem = faults.refusal(plan)
    if problem:
        raise faults.FaultRefused(problem)
    if kind == "worker":
        if args.server_pid:
            plan.target_pid = args.server_pid[-1]
        else:
            pids = local_server_pids(urls[-1:])
            if pids and not all(faults.runs_congress(p) for p in pids):  # nginx in front: not ours to signal
                raise faults.FaultRefused(f"--fault worker: what listens on {urls[-1]} is not a congress server "
                                          f"(nginx in front?): give --server-pid of the worker to signal")
            plan.target_pid = faults.pick_worker(pids, {p: faults.parent_of(p) or 0 for p in pids})
    faults.check_reachable(plan)
    return plan


def _safe(url: str) -> str:
    """A database URL without its password, for printing."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database)"


# -- parser -------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="congress", description="职代会线上系统 — online workers' congress")
    parser.add_argument("--database-url", help="数据库地址（默认 CONGRESS_DATABASE_URL 或当前目录的 congress.db）")
    sub = parser.add_subparsers(dest="command", required=True)

    def serve_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--log-level", default="warning")

    p = sub.add_parser("serve", help="运行服务")
    serve_flags(p)
    p.add_argument("--workers", type=int, default=1, help="工作进程数（大于 1 时需要 Redis）")
    p.add_argument("--redis-url", help="Redis 地址（默认 CONGRESS_REDIS_URL）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="创建示例职代会（SQLite）并运行服务")
    serve_flags(p)
    p.add_argument("--keep", action="store_true", help="保留已有的示例数据库，不重建")
    p.add_argument("--no-serve", action="store_true", help="只创建数据，不启动服务")
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="数据库").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="升级数据库结构到最新")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("new", help="创建一次职代会及其代表团(组)；--from 则开始本届的下一次会议")
    p.add_argument("name", nargs="?")
    p.add_argument("--groups", help="逗号分隔，例如 主会场,长沙,岳阳")
    p.add_argument("--from", dest="from_congress", type=int, help="上一次会议的职代会编号（沿用名册、代表团(组)和规则）")
    p.add_argument("--rehearsal", action="store_true", help="标记为演练")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_new)

    roster = sub.add_parser("roster", help="代表名册").add_subparsers(dest="roster_command", required=True)
    p = roster.add_parser("import", help="导入名册（CSV UTF-8/GB18030 或 XLSX）")
    p.add_argument("file")
    p.add_argument("--congress", type=int)
    p.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
    p.add_argument("--create-groups", action="store_true", help="名册中的新代表团(组)自动创建")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_roster_import)

    staff = sub.add_parser("staff", help="工作人员账号").add_subparsers(dest="staff_command", required=True)
    p = staff.add_parser("add", help="添加工作人员，打印一次性初始密码")
    p.add_argument("name", help="登录名")
    p.add_argument("--display-name")
    p.set_defaults(func=cmd_staff_add)

    dept = sub.add_parser("department", help="承办部门账号").add_subparsers(dest="department_command", required=True)
    p = dept.add_parser("add", help="添加承办部门及其账号")
    p.add_argument("name")
    p.add_argument("--login")
    p.set_defaults(func=cmd_department_add)

    account = sub.add_parser("account", help="工作人员与承办部门账号：重置密码、停用、启用、结束登录").add_subparsers(
        dest="account_command", required=True)
    p = account.add_parser("list", help="列出账号（是否启用、在线登录数）")
    p.set_defaults(func=cmd_account)
    for name, text in (("reset", "重置密码（新密码只显示一次），并结束该账号的全部登录"),
                       ("deactivate", "停用账号并结束其全部登录（不能停用最后一个启用的工作人员账号）"),
                       ("activate", "重新启用已停用的账号"),
                       ("revoke", "结束账号的全部登录（打开的页面随即断开）")):
        p = account.add_parser(name, help=text)
        p.add_argument("login", help="登录名")
        p.set_defaults(func=cmd_account)

    codes = sub.add_parser("codes", help="代表访问码").add_subparsers(dest="codes_command", required=True)
    p = codes.add_parser("export", help="生成（重新生成）代表访问码并导出为可打印的表")
    p.add_argument("--congress", type=int)
    p.add_argument("--format", choices=("xlsx", "csv"), default="csv")
    p.add_argument("--output", "-o")
    p.add_argument("--employee-id", action="append", help="只为这些工号重新生成（可重复）")
    p.add_argument("--only-missing", action="store_true", help="只为还没有访问码的代表生成")
    p.set_defaults(func=cmd_codes_export)

    proposals = sub.add_parser("proposals", help="提案").add_subparsers(dest="proposals_command", required=True)
    p = proposals.add_parser("export", help="导出提案汇总表")
    p.add_argument("--congress", type=int)
    p.add_argument("--format", choices=("xlsx",), default="xlsx")
    p.add_argument("--output", "-o", default="提案汇总表.xlsx")
    p.set_defaults(func=cmd_proposals_export)
    p = proposals.add_parser("window", help="设置提案征集的开始和截止时间（ISO 8601，带时区；空字符串表示不限）")
    p.add_argument("--congress", type=int)
    p.add_argument("--opens", help="开始时间，例如 2027-03-01T08:00+08:00")
    p.add_argument("--closes", help="截止时间，例如 2027-03-15T18:00+08:00")
    p.set_defaults(func=cmd_proposals_window)
    p = proposals.add_parser("report", help="提案办理情况报告（截至某日）：PDF 或 XLSX")
    p.add_argument("--congress", type=int)
    p.add_argument("--date", required=True, help="统计截至的日期（北京时间当日 24 时），例如 2027-06-30")
    p.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    p.add_argument("--output", "-o")
    p.set_defaults(func=cmd_proposals_report)

    p = sub.add_parser("export", help="导出职代会档案（事件记录、选票、计票、结果、名册、签到、文件），供任何人核对")
    p.add_argument("--congress", type=int)
    p.add_argument("output", help="输出的 .zip 文件或新文件夹")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("verify", help="独立核对职代会档案：哈希链、每项计票与表决结果")
    p.add_argument("archive", nargs="?", help="档案（.zip 文件或文件夹）")
    p.add_argument("--db", help="直接核对数据库（先在内存中生成档案）：数据库地址")
    p.add_argument("--congress", type=int)
    p.add_argument("--expect", action="append", metavar="SEQ:HASH",
                   help="您记下的记录头（观众页面或公布结果上的序号和哈希），可重复")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="会议进行中备份数据库（不停服务）：PostgreSQL 用 pg_dump -Fc，SQLite 用在线备份")
    p.add_argument("output", help="备份文件（不能已存在）")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("minutes", help="生成会议记录：表决结果报告单、签到表、会议决议、提案汇总表")
    p.add_argument("--congress", type=int)
    p.add_argument("outdir", help="输出文件夹")
    p.set_defaults(func=cmd_minutes)
    add_trustee_commands(sub)
    add_term_commands(sub)
    add_notices_commands(sub, _database_url, _one_congress, run_action)
    p = sub.add_parser("rehearse", help="在目标服务器上进行全规模演练（创建演练职代会，模拟代表、观众、工作人员）")
    p.add_argument("--url", action="append", help="目标服务器地址，如 http://127.0.0.1:8000（可重复：客户端分布到各地址）")
    p.add_argument("--urls", help="逗号分隔的多个目标地址")
    p.add_argument("--delegates", type=int, default=295, help="正式代表人数")
    p.add_argument("--groups", type=int, default=7, help="代表团(组)数")
    p.add_argument("--observers", type=int, default=4000, help="云听会观众人数")
    p.add_argument("--proposals", type=int, default=273, help="提案件数")
    p.add_argument("--hand-counted-groups", type=int, default=1, help="现场计票（团长报送）的代表团(组)数")
    p.add_argument("--drop-rate", type=float, default=0.05, help="每次表决中每个连接断线重连的概率")
    p.add_argument("--votes", type=int, default=3, help="表决次数（最后一次为无记名选举）")
    p.add_argument("--staff-login", help="工作人员登录名（或 CONGRESS_STAFF_LOGIN）")
    p.add_argument("--staff-password", help="工作人员密码（或 CONGRESS_STAFF_PASSWORD）")
    p.add_argument("--department", default="演练承办部门", help="交办提案的承办部门（须已存在：congress department add）")
    p.add_argument("--server-pid", type=int, action="append", help="本机服务器进程号（可重复；默认按端口查找）")
    p.add_argument("--reconnect-storm", action="store_true", help="让所有观众同时断线并按 since 重连，测量恢复时间")
    p.add_argument("--processes", type=int, help="客户端进程数（默认：每进程约 900 个连接，不超过 CPU 核数 + 1，最多 8 个）")
    p.add_argument("--vote-spread", type=float, default=8.0, help="每次表决中代表投票分布的秒数")
    p.add_argument("--seed", type=int, default=2020)
    p.add_argument("--no-compression", action="store_true", help="不协商 permessage-deflate（浏览器默认协商）")
    p.add_argument("--json", action="store_true", help="报告以 JSON 输出到标准输出，进度为纯文本行")
    p.add_argument("--fault", metavar="KIND[:MODE]",
                   help="第一次表决中注入一个故障：worker（:term 默认 / :kill）、redis（:pause 默认 / :kill）、"
                        "database（:terminate）；报告增加 faults 部分（见 docs/deploy.md 演练故障）")
    p.add_argument("--fault-at", type=float, default=2.0, help="表决开始后第几秒注入故障（默认 2）")
    p.add_argument("--fault-for", type=float, default=10.0,
                   help="故障持续秒数（默认 10；worker：多少秒后运行 --restart-command）")
    p.add_argument("--restart-command", help="worker 故障：停止进程后运行此命令重启它（默认由 systemd 等自动重启）")
    p.add_argument("--redis-url", help="redis 故障：部署所用的 Redis 地址")
    p.add_argument("--database-url", dest="fault_database_url",
                   help="database 故障：部署所用的 PostgreSQL 地址（角色须能终止连接：超级用户或 pg_signal_backend）")
    p.add_argument("--fault-command", help="代替内置方式注入故障的命令（如 systemctl stop redis-server），须与 --recover-command 同用")
    p.add_argument("--recover-command", help="--fault-for 秒后运行的恢复命令（如 systemctl start redis-server）")
    p.set_defaults(func=cmd_rehearse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DomainError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"错误：找不到文件 {error.filename}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
