"""The minutes of a congress (会议记录), printed from its archive (congress.records.archive):

- per vote with a result, a result sheet (表决结果报告单, PDF): the rule in words, each group's
  figures, the outcome in words, the scrutineer's certification and the head of the record;
- the check-in list (签到表), as PDF and XLSX;
- the resolutions of the congress (会议决议), a printable HTML page listing each published outcome.

PDFs embed a CJK font so they print the same everywhere (see `find_cjk_font`). Times are shown in
Beijing time (UTC+8), the time the congress is held in.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Font

from congress.domain.errors import DomainError
from congress.domain.time import BEIJING  # noqa: E402 - shared with the actions
from congress.records.cells import append_row, first_sheet, header_row, lay_out_for_print

FONT_PACKAGE = "fonts-noto-cjk"
FONT_CANDIDATES = (  # Debian/Ubuntu, Fedora, Arch, a manual install
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/local/share/fonts/NotoSansCJK-Regular.ttc",
)
METHODS = {"online": "网上投票", "show_of_hands": "举手表决", "paper": "纸质选票"}
STAY_METHODS = {"self": "本人签到", "desk": "代为签到"}


# -- the font -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int  # the face within a .ttc collection (0 for a single font)


def _has_chinese(path: Path, index: int) -> bool:
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
        return all(ord(c) in cmap for c in "职工代表大会")
    except Exception:
        return False


def _sc_face(path: Path) -> int:
    """In a collection, the Simplified Chinese face (Noto: JP, KR, SC, TC, …); else the first."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    names = [str(f["name"].getDebugName(1) or "") for f in collection.fonts]
    for wanted in ("CJK SC", " SC", "GB", "Hei", "Song"):
        for index, name in enumerate(names):
            if wanted in name and "Mono" not in name:
                return index
    return 0


def find_cjk_font() -> CjkFont:
    """CONGRESS_CJK_FONT (a path, optionally `path#index`), a known Noto CJK location, or what
    fontconfig offers for Chinese; the face must really carry Chinese characters."""
    override = os.environ.get("CONGRESS_CJK_FONT")
    candidates: list[tuple[Path, int | None]] = []
    if override:
        path, _, index = override.partition("#")
        candidates.append((Path(path), int(index) if index.isdigit() else None))
    candidates += [(Path(p), None) for p in FONT_CANDIDATES]
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}\t%{index}", "Noto Sans CJK SC:lang=zh-cn"],
                                   capture_output=True, text=True, timeout=10).stdout
            file, _, index = found.partition("\t")
            if file:
                candidates.append((Path(file), int(index) if index.isdigit() else None))
        except (OSError, subprocess.SubprocessError):
            pass
    for font_path, font_index in candidates:
        if not font_path.is_file():
            continue
        face = _sc_face(font_path) if font_index is None else font_index
        if _has_chinese(font_path, face):
            return CjkFont(font_path, face)
    raise DomainError("no_cjk_font", f"找不到中文字体，无法生成 PDF：请安装 {FONT_PACKAGE}"
                                     f"（Debian/Ubuntu：apt-get install -y {FONT_PACKAGE}），"
                                     "或用环境变量 CONGRESS_CJK_FONT 指定一个中文 TTF/OTF/TTC 字体文件")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "congress" / "fonts"


def _add_font(pdf: FPDF, font: CjkFont) -> None:
    if font.path.suffix.lower() not in (".ttc", ".otc"):
        pdf.add_font("cjk", fname=str(font.path))
        return
    try:
        pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    except TypeError:  # an fpdf2 older than 2.8 takes no collections: extract the face once, and cache it
        from fontTools.ttLib import TTCollection

        extracted = _cache_dir() / f"{font.path.stem}-{font.index}.otf"
        if not extracted.exists():
            extracted.parent.mkdir(parents=True, exist_ok=True)
            TTCollection(str(font.path)).fonts[font.index].save(str(extracted))
        pdf.add_font("cjk", fname=str(extracted))


def new_pdf(font: CjkFont, landscape: bool = False) -> FPDF:
    pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    _add_font(pdf, font)
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, 14)
    pdf.set_font("cjk", size=10)
    return pdf


# -- helpers --------------------------------------------------------------------------------------
def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _load(files: Mapping[str, bytes], name: str) -> Any:
    return json.loads(files[name].decode("utf-8"))


def _safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("_")[:40] or "表决"


def _votes(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    votes = [_load(files, n) for n in files if n.startswith("votes/vote-") and n.endswith(".json")]
    return sorted(votes, key=lambda v: v["vote"]["id"])


def _published_event(files: Mapping[str, bytes], vote_id: int) -> dict[str, Any] | None:
    found = None
    for line in files["events.jsonl"].decode("utf-8").splitlines():
        if '"vote.published"' in line:
            event = json.loads(line)
            if event["type"] == "vote.published" and event["payload"].get("vote_id") == vote_id:
                found = event
    return found


# The PDF's building blocks, shared with the proposals' progress report (records/progress_report.py)

def heading(pdf: FPDF, text: str, size: int = 16) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.ln(2)


def paragraph(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.set_font("cjk", size=10)


def pdf_table(pdf: FPDF, rows: list[list[str]], widths: list[float], size: int = 9) -> None:
    pdf.set_font("cjk", size=size)
    with pdf.table(col_widths=widths, width=sum(widths), text_align="CENTER", wrapmode=WrapMode.CHAR,
                   line_height=size * 0.55, headings_style=FontFace(emphasis="NONE", fill_color=(230, 230, 230)),
                   repeat_headings=1) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)
    pdf.set_font("cjk", size=10)
    pdf.ln(2)


# -- the result sheet -----------------------------------------------------------------------------
def result_sheet(font: CjkFont, congress: dict[str, Any], data: dict[str, Any], head: dict[str, Any],
                 published: dict[str, Any] | None) -> bytes:
    vote, result = data["vote"], data["result"]
    widest = max((len(q.get("options", [])) for q in result["questions"]), default=3)
    pdf = new_pdf(font, landscape=widest > 5)
    pdf.add_page()
    heading(pdf, congress["name"], 13)
    heading(pdf, f"表决结果报告单：{vote['title']}", 16)
    kind = "无记名投票" if vote["is_secret"] else "记名投票"
    paragraph(pdf, f"第 {vote['round']} 轮 · {kind} · 表决开始 {local_time(vote['opened_at'])} · "
               f"截止 {local_time(vote['closed_at'])}（北京时间）")
    paragraph(pdf, f"应到 {result['eligible']} 人，实到 {result['present']} 人，参加表决 {result['cast']} 人。"
               f"{result['quorum']['words']}。")
    if result.get("is_void_round"):
        paragraph(pdf, f"本轮表决无效：{result.get('void_round_words')}", 11)
    pdf.ln(2)
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    for number, question in enumerate(result["questions"], start=1):
        paragraph(pdf, f"事项 {number}：{question['text']}", 11)
        paragraph(pdf, f"表决规则：{question['rule']}")
        options = question.get("options", [])
        fixed = [24.0, 18.0] + [13.0] * 6
        option_width = max(12.0, (usable - sum(fixed)) / max(1, len(options)))
        header = ["代表团(组)", "计票方式", "应到", "实到", "发出", "收回", "有效", "无效"]
        header += [o["label"] for o in options]
        rows = [header]
        for g in question["groups"]:
            rows.append([g["name"], METHODS.get(g["method"], g["method"]), *(str(g[k]) for k in (
                "eligible", "present", "issued", "returned", "valid", "void")),
                *(str(g["counts"].get(o["key"], 0)) for o in options)])
        rows.append(["合计", "", *(str(question[k]) for k in ("eligible", "present", "issued", "returned",
                                                             "valid", "void")),
                     *(str(o["count"]) for o in options)])
        pdf_table(pdf, rows, fixed + [option_width] * len(options))
        paragraph(pdf, f"结果：{question.get('words', '')}", 11)
        pdf.ln(3)
    counts = data.get("group_counts") or []
    if counts:
        paragraph(pdf, "现场计票：" + "；".join(
            f"{c['group']}（{METHODS.get(c['method'], c['method'])}，监票人 {c['scrutineer']}，"
            f"录入 {c['entered_by']} {local_time(c['entered_at'])}）" for c in counts))
    certified = (f"总监票人 {vote['certified_by']} 于 {local_time(vote['certified_at'])} 确认计票结果"
                 if vote.get("certified_by") else "计票结果尚未经总监票人确认")
    paragraph(pdf, certified + (f"；{local_time(vote['published_at'])} 公布" if vote.get("published_at") else "") + "。")
    pdf.ln(4)
    paragraph(pdf, "总监票人（签字）：____________        监票人（签字）：____________")
    pdf.ln(4)
    if published is not None and published["payload"].get("record"):
        record = published["payload"]["record"]
        paragraph(pdf, f"公布时的记录头：第 {record['seq']} 条事件，哈希 {record['hash']}", 8)
        paragraph(pdf, f"公布结果本身：第 {published['seq']} 条事件，哈希 {published['hash']}", 8)
    paragraph(pdf, f"本单生成时的记录头：第 {head['seq']} 条事件，哈希 {head['hash']}", 8)
    paragraph(pdf, "核对方法：下载职代会档案，运行 congress verify 档案 --expect 序号:哈希（见 docs/records.md）。", 8)
    return bytes(pdf.output())


# -- the check-in list ----------------------------------------------------------------------------
CHECK_IN_HEADER = ["代表团(组)", "工号", "姓名", "代表类型", "签到时间", "签到方式", "补签到原因", "退场时间", "退场原因"]


def check_in_rows(files: Mapping[str, bytes]) -> list[list[str]]:
    """One row per stay; a delegate who never checked in has one row marked 未签到."""
    stays: dict[int, list[dict[str, Any] | None]] = {}  # None below: never checked in, one 未签到 row
    for stay in _load(files, "attendance.json"):
        stays.setdefault(stay["delegate_id"], []).append(stay)
    rows: list[list[str]] = []
    for d in _load(files, "roster.json"):
        if not d["is_active"]:
            continue
        base = [d["group"], d["employee_id"], d["name"], d["delegate_type"]]
        for stay in stays.get(d["delegate_id"], []) or [None]:
            if stay is None:
                rows.append(base + ["未签到", "", "", "", ""])
            else:
                rows.append(base + [local_time(stay["checked_in_at"]), STAY_METHODS.get(stay["method"], stay["method"]),
                                    stay["reason"] or "", local_time(stay["checked_out_at"]),
                                    stay["checkout_reason"] or ""])
    return rows


def check_in_pdf(font: CjkFont, congress: dict[str, Any], rows: list[list[str]], now: datetime) -> bytes:
    pdf = new_pdf(font, landscape=True)
    pdf.add_page()
    heading(pdf, congress["name"], 13)
    heading(pdf, "签到表", 16)
    voting = [r for r in rows if r[3] == "正式代表"]
    here = {(r[1]) for r in voting if r[4] != "未签到" and not r[7]}
    paragraph(pdf, f"正式代表 {len({r[1] for r in voting})} 人，目前在场 {len(here)} 人"
               f"（截至 {now.astimezone(BEIJING):%Y-%m-%d %H:%M} 北京时间）。时间均为北京时间。")
    pdf_table(pdf, [CHECK_IN_HEADER, *rows], [26, 22, 20, 20, 30, 20, 55, 30, 50], size=8)
    return bytes(pdf.output())


def check_in_xlsx(congress: dict[str, Any], rows: list[list[str]], path: Path) -> None:
    book = Workbook()
    sheet = first_sheet(book)
    sheet.title = "签到表"
    append_row(sheet, [f"{congress['name']}签到表（北京时间）"])
    sheet["A1"].font = Font(bold=True, size=14)
    header_row(sheet, CHECK_IN_HEADER)
    for row in rows:
        append_row(sheet, row)  # a name or reason that starts with "=" stays text, never a formula
    lay_out_for_print(sheet, (14, 12, 10, 10, 18, 10, 30, 18, 30), header_at=2, freeze="A3")
    book.save(path)


# -- the resolutions ------------------------------------------------------------------------------
def resolutions_html(congress: dict[str, Any], votes: list[dict[str, Any]], head: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{e(congress['name'])}会议决议</title>",
        "<style>body{font-family:'Noto Serif CJK SC','Songti SC',SimSun,serif;max-width:46em;margin:2em auto;"
        "line-height:1.8;color:#000}h1{text-align:center;font-size:1.6em}h2{font-size:1.15em;margin-top:1.6em}"
        "p.meta,p.record{color:#333;font-size:.9em}p.record{word-break:break-all}"
        "@media print{body{margin:0 1.5cm}}</style></head><body>",
        f"<h1>{e(congress['name'])}<br>会议决议</h1>",
    ]
    published = [v for v in votes if v["vote"]["status"] == "published" and v["result"] is not None]
    if not published:
        parts.append("<p>本次会议尚未公布表决结果。</p>")
    for number, data in enumerate(published, start=1):
        vote, result = data["vote"], data["result"]
        parts.append(f"<h2>{number}. {e(vote['title'])}</h2>")
        parts.append(f"<p class=\"meta\">{'无记名投票' if vote['is_secret'] else '记名投票'}，第 {vote['round']} 轮；"
                     f"应到 {result['eligible']} 人，实到 {result['present']} 人，参加表决 {result['cast']} 人。"
                     f"{e(result['quorum']['words'])}。</p>")
        for question in result["questions"]:
            parts.append(f"<p>{e(question['text'])}：{e(question.get('words', ''))}。</p>")
        parts.append(f"<p class=\"meta\">总监票人 {e(vote.get('certified_by') or '')} 确认；"
                     f"{e(local_time(vote.get('published_at')))}（北京时间）公布。</p>")
    parts.append(f"<p class=\"record\">记录头：第 {head['seq']} 条事件，哈希 {e(str(head['hash']))}。"
                 "任何人可用职代会档案核对（congress verify）。</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- all of it ------------------------------------------------------------------------------------
def write_minutes(files: Mapping[str, bytes], outdir: Path, now: datetime) -> list[Path]:
    """Write the minutes into `outdir`; returns the files written."""
    font = find_cjk_font()
    outdir.mkdir(parents=True, exist_ok=True)
    congress = _load(files, "congress.json")
    head = _load(files, "manifest.json")["head"]
    votes = _votes(files)
    written = []
    for data in votes:
        if data["result"] is None:
            continue
        vote = data["vote"]
        path = outdir / f"表决结果-{vote['id']:03d}-{_safe_name(vote['title'])}.pdf"
        path.write_bytes(result_sheet(font, congress, data, head, _published_event(files, vote["id"])))
        written.append(path)
    rows = check_in_rows(files)
    path = outdir / "签到表.pdf"
    path.write_bytes(check_in_pdf(font, congress, rows, now))
    written.append(path)
    path = outdir / "签到表.xlsx"
    check_in_xlsx(congress, rows, path)
    written.append(path)
    path = outdir / "会议决议.html"
    path.write_text(resolutions_html(congress, votes, head), encoding="utf-8")
    written.append(path)
    return written
