"""`congress db upgrade`, `new`, `roster import`, `staff add`, `department add`, `account`, `codes
export`, `proposals window`: setting a congress up from the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from congress.actions.base import Context
from congress.application.service import system_clock
from congress.cli.common import (
    CLI_ACTOR,
    database_url,
    one_congress,
    require_schema,
    run_action,
    safe_url,
)
from congress.cli.terms import cmd_session_new, print_roster_changes
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.domain.errors import DomainError
from congress.domain.time import beijing


# -- commands -----------------------------------------------------------------------------------
def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    upgrade(url)
    print(f"数据库已升级到最新版本：{safe_url(url)}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from congress.actions.setup import create_congress

    url = database_url(args)
    if args.from_congress is not None:  # the next session of a 届 (congress.cli.terms)
        return cmd_session_new(args)
    if not args.name or not args.groups:
        raise DomainError("bad_field", "请给出职代会名称和 --groups（或用 --from 从上一次会议开始下一次会议）",
                          params={"field": "--groups" if args.name else "name"})
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

    url = database_url(args)
    data = Path(args.file).read_bytes()
    congress_id = one_congress(url, args.congress)
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


def _new_account(args: argparse.Namespace, made: Callable[[str], str], action: Any, *params: Any) -> int:
    """An account made from the command line: its login, and its first password shown this once."""
    url = database_url(args)
    upgrade(url)
    account, password = run_action(url, action, *params)
    print(made(account.login))
    print(f"初始密码（只显示这一次，请妥善交给本人）：{password}")
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    from congress.actions.accounts import add_staff

    return _new_account(args, lambda login: f"已创建工作人员账号：{login}", add_staff, args.name, args.display_name)


def cmd_department_add(args: argparse.Namespace) -> int:
    from congress.actions.accounts import add_department

    return _new_account(args, lambda login: f"已创建承办部门账号：{login}（{args.name}）", add_department, args.name,
                        args.login)


def cmd_account(args: argparse.Namespace) -> int:
    """Staff and department accounts: list, reset a password, deactivate, activate, end their sign-ins.
    A server notices ended sign-ins within seconds and closes their open pages (congress.application.connection_access)."""
    from congress.actions import accounts

    url = database_url(args)
    require_schema(url)
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
    from congress.records.exports import codes_csv, write_codes_xlsx

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
    if args.output is None and args.format == "xlsx":
        print("xlsx 需要 --output 文件名", file=sys.stderr)
        return 2
    codes = run_action(url, issue_codes, congress_id, args.employee_id or None, only_missing=args.only_missing)
    if args.format == "xlsx":
        write_codes_xlsx(codes, Path(args.output))
        print(f"已生成 {len(codes)} 位代表的访问码，写入 {args.output}（旧访问码已失效）", file=sys.stderr)
        return 0
    text = codes_csv(codes)  # names and groups stay text in Excel (congress.records.cells)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8-sig")
        print(f"已生成 {len(codes)} 位代表的访问码，写入 {args.output}（旧访问码已失效）", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_proposals_window(args: argparse.Namespace) -> int:
    from congress.actions.setup import set_filing_window

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
    result = run_action(url, set_filing_window, congress_id, args.opens or None, args.closes or None)
    opens, closes = beijing(result["opens_at"]), beijing(result["closes_at"])
    print(f"提案征集：开始 {opens or '不限'}，截止 {closes or '不限'}（职代会 {congress_id}）")
    return 0
