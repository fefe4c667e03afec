"""`congress proposals export|report`, `export`, `backup`, `verify`, `minutes`: the files a congress
leaves (docs/records.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from congress.application.service import system_clock
from congress.cli.common import (
    database_url,
    one_congress,
    run_action,
)
from congress.db.engine import Database
from congress.db.models import Congress


def cmd_proposals_export(args: argparse.Namespace) -> int:
    from congress.reads.proposal_views import proposal_board
    from congress.records.exports import write_proposal_register

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
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


def cmd_proposals_report(args: argparse.Namespace) -> int:
    from datetime import datetime

    from congress.domain.time import BEIJING
    from congress.records.minutes import find_cjk_font
    from congress.records.progress_report import parse_day, report_figures, report_pdf, report_xlsx

    day = parse_day(args.date, "--date")
    url = database_url(args)
    congress_id = one_congress(url, args.congress)
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


def _archive_files(args: argparse.Namespace) -> tuple[str, int, dict[str, bytes]]:
    """(database, congress, its archive as files in memory): `congress export` writes them, `minutes`
    reads them."""
    from congress.records.archive import export_congress

    url = database_url(args)
    congress_id = one_congress(url, args.congress)
    db = Database(url)
    try:
        return url, congress_id, export_congress(db, congress_id, system_clock())
    finally:
        db.dispose()


def cmd_export(args: argparse.Namespace) -> int:
    from congress.records.archive import write_archive

    _url, congress_id, files = _archive_files(args)
    write_archive(files, Path(args.output))
    head = json.loads(files["manifest.json"])["head"]
    print(f"已导出职代会 {congress_id} 的档案：{args.output}（{len(files)} 个文件）")
    print(f"记录头：第 {head['seq']} 条事件，哈希 {head['hash']}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from congress.ops.backup import BackupRefused, backup

    try:
        made = backup(database_url(args), Path(args.output))
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
        congress_id = one_congress(args.db, args.congress)
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
    from congress.records.minutes import write_minutes

    url, congress_id, files = _archive_files(args)
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
