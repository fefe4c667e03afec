"""`congress serve`, `congress demo` and `congress rehearse`: the server, the story's congress, and the
dress rehearsal against a running deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from congress.cli.common import (
    DEMO_DATABASE_FILE,
    safe_url,
)
from congress.db.migrate import upgrade
from congress.domain.errors import DomainError
from congress.settings import Settings, websocket_options


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
    print(f"congress 服务：http://{args.host}:{args.port}/  （{args.workers} 个工作进程，数据库 {safe_url(url)}）")
    uvicorn.run("congress.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, timeout_graceful_shutdown=5, backlog=4096, **websocket_options(settings))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from congress.demo.story import build_demo, demo_folder, set_demo_stream, start_demo_picture

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

    from congress.client.http import HttpFailure, NotARehearsal
    from congress.rehearsal import Options, rehearse
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
