"""`congress session …`: the next session (次) of a 届 from the previous one (docs/terms.md).

    congress session new   --from 1 [--name …]          same groups, roster, leaders and rules
    congress roster import 名册.csv --congress 2 --dry-run   what changed against the previous roster
    congress session carry --congress 2 [--numbers 3,7,12]   open proposals, with their history
    congress session stats --congress 2 [--output 届统计.xlsx]

`congress new --from 1` is the same as `congress session new --from 1`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from congress.domain.errors import DomainError
from congress.domain.progress import percent


def print_roster_changes(changes: dict[str, list[dict[str, Any]]]) -> None:
    for row in changes["added"]:
        print(f"  新增：{row['name']}（{row['employee_id']}，{row['group']}）")
    for row in changes["left"]:
        print(f"  不再列入：{row['name']}（{row['employee_id']}，{row['group']}）")
    for row in changes["changed"]:
        fields = "；".join(f"{f['label']} {f['text']}" if "text" in f else f"{f['label']} {f['before']} → {f['after']}"
                          for f in row["fields"])
        print(f"  变更：{row['name']}（{row['employee_id']}）{fields}")


def cmd_session_new(args: argparse.Namespace) -> int:
    from congress.actions.terms import start_next_session
    from congress.cli.common import database_url, one_congress, run_action

    url = database_url(args)
    previous = one_congress(url, getattr(args, "from_congress", None))
    result = run_action(url, start_next_session, previous, args.name or None)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"已开始{result['label']}会议：职代会 {result['id']}（{result['name']}）")
    print(f"  沿用职代会 {previous} 的 {len(result['groups'])} 个代表团(组)、{result['delegates']} 名代表、团(组)长和规则；"
          f"承办部门及其账号不变；代表访问码需为本次会议重新生成（congress codes export --congress {result['id']}）")
    print(f"  上次会议未办结的提案 {result['open_proposals']} 件：congress session carry --congress {result['id']} "
          f"转入全部，或加 --numbers 选择")
    return 0


def cmd_session_carry(args: argparse.Namespace) -> int:
    from congress.actions.terms import carry_over_proposals
    from congress.cli.common import database_url, one_congress, run_action

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
    numbers = None
    if args.numbers:
        numbers = [n.strip() for n in args.numbers.replace("，", ",").split(",") if n.strip()]
        if not numbers:
            raise DomainError("bad_field", "--numbers 应为逗号分隔的提案编号", params={"field": "--numbers"})
    result = run_action(url, carry_over_proposals, congress_id, numbers)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"已从{result['from']['label']}会议转入 {len(result['carried'])} 件提案（连同附议、审查、交办、答复和测评记录）：")
    for row in result["carried"]:
        print(f"  {row['number']} ← 上次 {row['from_number']} 号  {row['title']}")
    return 0


def cmd_session_stats(args: argparse.Namespace) -> int:
    from datetime import datetime

    from congress.cli.common import database_url, one_congress
    from congress.db.engine import Database
    from congress.domain.time import BEIJING
    from congress.records.term_report import term_statistics_of, term_xlsx

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
    db = Database(url)
    try:
        with db.read() as session:
            stats = term_statistics_of(session, congress_id, datetime.now(BEIJING).date())
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, default=str))
    else:
        print(f"{stats['term_name']}：")
        for s in stats["sessions"]:
            print(f"  {s['label']}  提案 {s['total']}（上次转入 {s['carried_in']}） 立案率 {percent(s['register_rate'])}"
                  f"  办结率 {percent(s['closed_rate'])}  满意率 {percent(s['satisfaction_rate'])}")
        t = stats["term"]
        print(f"  全届（每件只计一次） 提案 {t['total']}  立案率 {percent(t['register_rate'])}  "
              f"办结率 {percent(t['closed_rate'])}  满意率 {percent(t['satisfaction_rate'])}")
    if args.output:
        Path(args.output).write_bytes(term_xlsx(stats))
        if not args.json:
            print(f"已写入 {args.output}（每次会议一张表，另有届汇总表和图表）")
    return 0


def add_term_commands(sub: Any) -> None:
    session = sub.add_parser("session", help="本届的各次会议：开始下一次会议、转入提案、统计").add_subparsers(
        dest="session_command", required=True)
    p = session.add_parser("new", help="从上一次会议开始本届的下一次会议（沿用代表团(组)、名册、团(组)长和规则）")
    p.add_argument("--from", dest="from_congress", type=int, help="上一次会议的职代会编号")
    p.add_argument("--name", help="新会议的名称（默认按上次名称顺延，如 第三次 → 第四次）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_session_new)
    p = session.add_parser("carry", help="将上一次会议未办结的提案连同办理过程转入本次会议（全部或 --numbers 所列）")
    p.add_argument("--congress", type=int, help="本次会议的职代会编号")
    p.add_argument("--numbers", help="上次会议的提案编号，逗号分隔；不填则转入全部未办结提案")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_session_carry)
    p = session.add_parser("stats", help="本届各次会议的立案率、办结率、满意率（按部门、按类别，逐年比较）")
    p.add_argument("--congress", type=int)
    p.add_argument("--output", "-o", help="写出 XLSX（每次会议一张表和届汇总表，带图表）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_session_stats)
