"""`congress notices …`: who hears what, by which channel, and the outbox by hand (docs/notices.md).

    congress notices status  [--congress ID]
    congress notices rules   [--congress ID] due_7=on vote_opened=off …
    congress notices channel add --audience department --department 人力资源部 --kind wecom --address - < url.txt
    congress notices channel remove ID
    congress notices email   [--congress ID] E10001=zhang@example.cn …
    congress notices send    [--once]
    congress notices test    --channel ID | --email ADDRESS

A webhook's address holds its key: `--address -` reads it from standard input (not the shell's
history), and nothing here prints it other than masked.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

from congress.domain.errors import DomainError

# The outbox states as staff read them (the page has the same words in web/i18n/zh-CN.json).
OUTBOX_WORDS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败", "cancelled": "已取消"}


def add_notices_commands(sub: Any, database_url: Any, one_congress: Any, run_action: Any) -> None:
    notices = sub.add_parser("notices", help="通知：邮件与企业微信/钉钉/飞书群机器人").add_subparsers(
        dest="notices_command", required=True)

    def congress_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--congress", type=int)

    def status(args: argparse.Namespace) -> int:
        from congress.actions.notices import notices_view

        url = database_url(args)
        view = _read(url, notices_view, one_congress(url, args.congress))
        for rule in view["rules"]:
            print(f"{'开' if rule['on'] else '关'}  {rule['key']:18} {rule['words']}")
        for c in view["channels"]:
            who = c["department"] or c["audience_label"]
            print(f"渠道 {c['id']}: {who} · {c['kind_label']} · {c['address']}{' · 已加签' if c['signed'] else ''}")
        print("发送情况：" + "，".join(f"{OUTBOX_WORDS.get(k, k)} {v}" for k, v in view["outbox"].items()))
        for failure in view["failures"]:
            print(failure["words"])
        return 0

    def rules(args: argparse.Namespace) -> int:
        from congress.actions.notices import set_notices

        changes = {}
        for item in args.rules:
            key, _, value = item.partition("=")
            if value not in ("on", "off"):
                raise DomainError("bad_field", f"{item}：应写成 规则=on 或 规则=off", params={"field": "rules"})
            changes[key] = value == "on"
        url = database_url(args)
        run_action(url, set_notices, one_congress(url, args.congress), rules=changes)
        return status(args)

    def channel_add(args: argparse.Namespace) -> int:
        from congress.actions.notices import set_notices

        address = sys.stdin.readline().strip() if args.address == "-" else args.address
        secret = sys.stdin.readline().strip() if args.secret == "-" else args.secret
        spec = {"audience": args.audience, "department": args.department, "kind": args.kind, "address": address,
                "secret": secret}
        url = database_url(args)
        run_action(url, set_notices, one_congress(url, args.congress), add_channel={k: v for k, v in spec.items() if v})
        return status(args)

    def channel_remove(args: argparse.Namespace) -> int:
        from congress.actions.notices import set_notices

        url = database_url(args)
        run_action(url, set_notices, one_congress(url, args.congress), remove_channel=args.id)
        return status(args)

    def emails(args: argparse.Namespace) -> int:
        from congress.actions.notices import set_notices

        pairs = dict(item.partition("=")[::2] for item in args.pairs)
        url = database_url(args)
        run_action(url, set_notices, one_congress(url, args.congress), delegate_emails=pairs)
        print(f"已设置 {len(pairs)} 位代表的电子邮件")
        return 0

    def send(args: argparse.Namespace) -> int:
        from congress.application.notice_sender import Sender
        from congress.cli.common import require_schema
        from congress.db.engine import Database
        from congress.notices.settings import smtp_settings

        url = database_url(args)
        require_schema(url)
        db = Database(url)
        sender = Sender(db, lambda: datetime.now(UTC), smtp=smtp_settings(), batch=args.batch)
        try:
            while True:
                counts, _events = sender.drain()
                print(f"已发送 {counts['sent']}，待重试 {counts['retry']}，失败 {counts['failed']}，"
                      f"取消 {counts['cancelled']}", flush=True)
                if args.once:
                    return 0
                time.sleep(args.interval)
        finally:
            db.dispose()

    def test(args: argparse.Namespace) -> int:
        from congress.cli.common import require_schema
        from congress.notices.testing import send_test

        url = database_url(args)
        if args.channel is not None:
            require_schema(url)
        print(send_test(url, channel_id=args.channel, email=args.email))
        return 0

    p = notices.add_parser("status", help="通知规则、渠道（Webhook 只显示掩码）与发送情况")
    congress_flag(p)
    p.set_defaults(func=status)
    p = notices.add_parser("rules", help="开关通知规则，例如 due_7=on vote_opened=off")
    congress_flag(p)
    p.add_argument("rules", nargs="+")
    p.set_defaults(func=rules)
    channel = notices.add_parser("channel", help="通知渠道").add_subparsers(dest="channel_command", required=True)
    p = channel.add_parser("add", help="添加邮件地址或群机器人 Webhook")
    congress_flag(p)
    p.add_argument("--audience", choices=("department", "staff", "delegates"), required=True)
    p.add_argument("--department", help="承办部门名称（--audience department 时）")
    p.add_argument("--kind", choices=("email", "wecom", "dingtalk", "feishu"), required=True)
    p.add_argument("--address", required=True, help="邮件地址或 Webhook 地址；- 表示从标准输入读取（不留在命令历史中）")
    p.add_argument("--secret", help="钉钉/飞书的加签密钥；- 表示从标准输入读取")
    p.set_defaults(func=channel_add)
    p = channel.add_parser("remove", help="删除通知渠道")
    congress_flag(p)
    p.add_argument("id", type=int)
    p.set_defaults(func=channel_remove)
    p = notices.add_parser("email", help="代表的电子邮件（工号=地址），用于提案人与表决通知")
    congress_flag(p)
    p.add_argument("pairs", nargs="+")
    p.set_defaults(func=emails)
    p = notices.add_parser("send", help="发送到期的通知（服务运行时由服务自动发送）")
    p.add_argument("--once", action="store_true", help="发送一轮后退出")
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--batch", type=int, default=20, help="每次认领的条数")
    p.set_defaults(func=send)
    p = notices.add_parser("test", help="在某个渠道发送一条测试消息")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--channel", type=int, help="通知渠道编号（notices status 列出）")
    group.add_argument("--email", help="发到这个邮件地址（检查 CONGRESS_SMTP_* 设置）")
    p.set_defaults(func=test)


def _read(url: str, fn: Any, congress_id: int) -> Any:
    from congress.actions.base import Context
    from congress.cli.common import CLI_ACTOR
    from congress.db.engine import Database

    db = Database(url)
    try:
        with db.read() as session:
            return fn(Context(session, CLI_ACTOR, datetime.now(UTC)), congress_id)
    finally:
        db.dispose()
