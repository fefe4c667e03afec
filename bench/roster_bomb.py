"""Time and memory of reading hostile roster files (issue 18 point 8), before and after the limits.

    python bench/roster_bomb.py [--root PATH_TO_A_CHECKOUT] [--timeout 600] [KIND ...]

Each file is made here (a valid workbook from openpyxl whose sheet XML is replaced) and read by
``congress.domain.roster.parse_roster`` — what the HTTP API and ``congress roster import`` call — in a
fresh Python process, which reports the wall time, its peak RSS and its RSS once the call returned
(what a server process keeps). ``--root`` reads with another checkout's code, e.g. a worktree of
24ca28f for the figures before.

Kinds: ``cell`` (1 row whose name is 400 MB of one letter: 0.4 MB packed), ``rows`` (400 MB of empty
``<row/>``: 0.6 MB packed), ``numbered`` (960,000 empty numbered rows, 48 MB at 20:1: 2.4 MB),
``far`` (20,000 rows of one cell in column XFD: 0.1 MB), ``within`` (20,000 rows of 12 different
numbers, no <dimension>: the worst inside every limit), ``legit`` (20,000 delegates, as openpyxl
writes them: 0.7 MB).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["工号", "姓名", "性别", "代表团(组)", "单位", "类别", "团(组)长", "代表类型"]
MB = 2**20
START = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
         b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
END = b"</sheetData></worksheet>"


def row(number: int, values: list[str]) -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % v.encode() for v in values)
    return b'<row r="%d">%s</row>' % (number, cells)


def delegate(i: int) -> list[str]:
    return [f"E{i:05d}", f"代表{i}", "男", f"第{i % 40}代表团", f"第{i % 300}车间", "一线职工", "0", "正式代表"]


def workbook(chunks: Iterator[bytes]) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w", force_zip64=True) as sheet:
                    for chunk in chunks:
                        sheet.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
    return out.getvalue()


def cell() -> Iterator[bytes]:
    yield START + row(1, HEADER) + b'<row r="2"><c t="inlineStr"><is><t>E1</t></is></c><c t="inlineStr"><is><t>'
    for _ in range(400):
        yield b"x" * MB
    yield b"</t></is></c></row>" + END


def rows() -> Iterator[bytes]:
    yield START + row(1, HEADER) + row(2, delegate(1))
    for _ in range(400 * MB // 600_000):
        yield b"<row/>" * 100_000
    yield END


def numbered() -> Iterator[bytes]:
    yield START + row(1, HEADER) + row(2, delegate(1))
    for start in range(3, 960_000, 10_000):
        yield b"".join(b'<row r="%d" spans="1:8" s="1" customFormat="1"/>' % n for n in range(start, start + 10_000))
    yield END


def far() -> Iterator[bytes]:
    yield START + row(1, HEADER) + row(2, delegate(1))
    yield b"".join(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (n, n)
                   for n in range(3, 20_003))
    yield END


def within() -> Iterator[bytes]:
    """The worst file inside every limit: 240,000 different cells and no <dimension> (openpyxl then
    parses the sheet once to size it, and again to read it)."""
    yield START + row(1, HEADER)
    for start in range(2, 20_002, 1_000):
        yield b"".join(row(n, [str(n * 37 + k) for k in range(12)]) for n in range(start, start + 1_000))
    yield END


def legit() -> Iterator[bytes]:
    yield START + row(1, HEADER)
    yield b"".join(row(i + 1, delegate(i)) for i in range(1, 20_001))
    yield END


KINDS: dict[str, Callable[[], Iterator[bytes]]] = {"cell": cell, "rows": rows, "numbered": numbered, "far": far,
                                                   "within": within, "legit": legit}

CHILD = r"""
import gc, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from congress.domain.errors import DomainError
from congress.domain.roster import parse_roster

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

data = open(sys.argv[2], "rb").read()
start = time.perf_counter()
try:
    roster = parse_roster(data, "roster.xlsx", None)
    outcome = f"{len(roster.rows)} rows, {len(roster.errors)} row errors"
except DomainError as error:
    outcome = f"{error.code}: {error.message}"
seconds = time.perf_counter() - start
gc.collect()
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "after_mb": rss(), "outcome": outcome}, ensure_ascii=False))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="*", default=list(KINDS), help=" / ".join(KINDS))
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose congress package reads")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if unknown := set(args.kinds) - set(KINDS):
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds:
            data = workbook(KINDS[kind]())
            path = Path(folder) / f"{kind}.xlsx"
            path.write_bytes(data)
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
            try:
                child = subprocess.run([sys.executable, "-c", CHILD, str(args.root.resolve()), str(path)],
                                       capture_output=True, text=True, timeout=args.timeout, check=True)
                result = json.loads(child.stdout)
                figures = (f"{result['seconds']:7.2f} s  peak {result['peak_mb']:5d} MB  after {result['after_mb']:5d} MB"
                           f"  {result['outcome'][:90]}")
            except subprocess.TimeoutExpired:
                figures = f"  > {args.timeout:.0f} s (stopped)"
            print(f"{kind:9s} {len(data) / MB:5.2f} MB → {unpacked / MB:6.0f} MB  {figures}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
