"""The `congress` command: serve, demo, db upgrade, new, roster import, staff add, account, codes
export, records, backups, rehearsals, and the notices, session and trustee subcommands.

`main` (this module) builds the parser and dispatches; each group of subcommands is a module of
its own. The command line calls actions through the same Context as the server and prints
results in Chinese for the union's staff.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from congress.cli.common import (
    database_url,
    one_congress,
    run_action,
)
from congress.cli.notices import add_notices_commands
from congress.cli.records import (
    cmd_backup,
    cmd_export,
    cmd_minutes,
    cmd_proposals_export,
    cmd_proposals_report,
    cmd_verify,
)
from congress.cli.serve import (
    cmd_demo,
    cmd_rehearse,
    cmd_serve,
)
from congress.cli.setup import (
    cmd_account,
    cmd_codes_export,
    cmd_db_upgrade,
    cmd_department_add,
    cmd_new,
    cmd_proposals_window,
    cmd_roster_import,
    cmd_staff_add,
)
from congress.cli.terms import add_term_commands
from congress.cli.trustee import add_trustee_commands
from congress.domain.errors import DomainError


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
    add_notices_commands(sub, database_url, one_congress, run_action)
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
