"""`congress trustee …`: a trustee (监票人) takes part from their own computer (congress.client.trustee).

    congress trustee keygen 监票人密钥.json
    congress trustee join    --url https://… --congress 1 --employee-id E10001 监票人密钥.json
    congress trustee decrypt --url https://… --congress 1 --employee-id E10001 --vote 7 监票人密钥.json

The key file holds the trustee's seed and never leaves this computer; the 访问码 is read from
CONGRESS_CODE or asked for without echo. Nothing secret is printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from congress.client.http import HttpFailure
from congress.domain.errors import DomainError
from congress.sealed.kit import key_file_text, seed_from_key_file
from congress.sealed.trustees import new_seed

ROUNDS = {1: "通信公钥", 2: "承诺与加密份额", 3: "核对份额并确认"}


def _seed(path: str) -> bytes:
    try:
        return seed_from_key_file(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        raise DomainError("bad_key_file", f"{path}：{error}") from None


def _trustee(args: argparse.Namespace) -> Any:
    from congress.client.trustee import TrusteeHttp

    code = os.environ.get("CONGRESS_CODE") or getpass.getpass(f"{args.employee_id} 的访问码：")
    try:
        return TrusteeHttp(args.url, args.congress, args.employee_id, code)
    except (HttpFailure, OSError) as error:
        raise DomainError("sign_in_failed", f"无法登录 {args.url}：{error}") from None


def cmd_keygen(args: argparse.Namespace) -> int:
    path = Path(args.keyfile)
    if path.exists():
        raise DomainError("exists", f"{path} 已存在：不会覆盖已有的监票人密钥文件")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key_file_text(new_seed()))
    print(f"已生成监票人密钥文件 {path}（仅本人可读）。请另存一份到 U 盘或打印保存："
          "丢失后您将无法参与解密；不要交给任何人，包括工作人员。")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    seed, console = _seed(args.keyfile), Console(stderr=True)
    trustee = _trustee(args)

    def posted(round_: int, state: dict[str, Any]) -> None:
        console.print(f"第 {round_} 轮（{ROUNDS[round_]}）已提交 — 您是第 {state['my_index']} 位监票人，"
                      f"共 {state['trustee_count']} 位，{state['threshold']} 位即可解密")

    try:
        with console.status("等待其他监票人完成各轮……"):
            state = trustee.take_part(seed, wait=True, timeout=args.timeout, progress=posted)
    except HttpFailure as error:
        raise DomainError(error.code, str(error)) from None
    if state["status"] == "ready":
        print(f"密钥已生成：监票人公钥 {state['public_key']}（公开，可与其他监票人核对）")
        return 0
    if state["status"] == "failed":
        print("密钥生成失败：有监票人发现份额不符。请工作人员重新发起，并由主席团核查。")
        return 1
    print("等待超时：还有监票人未完成。稍后用同一命令继续即可，已提交的各轮不会重复。")
    return 2


def cmd_decrypt(args: argparse.Namespace) -> int:
    seed = _seed(args.keyfile)
    trustee = _trustee(args)
    try:
        reply = trustee.decrypt(seed, args.vote)
    except HttpFailure as error:
        raise DomainError(error.code, str(error)) from None
    if reply["decrypted"]:
        print(f"已提交解密份额：{reply['shares_posted']}/{reply['threshold']} 位，计票结果已得出，请工作人员请总监票人确认。")
    else:
        print(f"已提交解密份额：{reply['shares_posted']}/{reply['threshold']} 位，还需其他监票人提交。")
    return 0


def add_trustee_commands(sub: Any) -> None:
    trustee = sub.add_parser("trustee", help="监票人：在自己的电脑上生成密钥、参与密钥生成、解密计票合计")
    commands = trustee.add_subparsers(dest="trustee_command", required=True)
    p = commands.add_parser("keygen", help="生成监票人密钥文件（只在本机保存）")
    p.add_argument("keyfile")
    p.set_defaults(func=cmd_keygen)
    for name, helptext, func in (("join", "参与密钥生成（三轮，自动等待其他监票人）", cmd_join),
                                 ("decrypt", "为已截止的无记名表决提交解密份额", cmd_decrypt)):
        p = commands.add_parser(name, help=helptext)
        p.add_argument("--url", required=True, help="服务器地址，如 https://zdh.example.com")
        p.add_argument("--congress", type=int, required=True)
        p.add_argument("--employee-id", required=True, help="您的工号")
        p.add_argument("keyfile")
        if name == "join":
            p.add_argument("--timeout", type=float, default=3600, help="最多等待的秒数")
        else:
            p.add_argument("--vote", type=int, required=True, help="表决编号")
        p.set_defaults(func=func)
