"""Rewrite the generated sections of docs/protocol.md from the command table (congress.routes.protocol).

    python docs/generate.py           # rewrite the page
    python docs/generate.py --check   # exit 1 if the page is not what the table says
    python docs/generate.py --openapi FILE   # also write the OpenAPI document (as served at /api/openapi.json)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from congress.routes.protocol.markdown import rewrite
from congress.routes.protocol.openapi import openapi_document

PAGE = Path(__file__).resolve().parent / "protocol.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--openapi", type=Path)
    args = parser.parse_args()
    page = PAGE.read_text(encoding="utf-8")
    written = rewrite(page)
    if args.openapi:
        args.openapi.write_text(json.dumps(openapi_document(), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.check:
        if written != page:
            print("docs/protocol.md differs from the command table: run python docs/generate.py", file=sys.stderr)
            return 1
        return 0
    if written != page:
        PAGE.write_text(written, encoding="utf-8")
        print("docs/protocol.md rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
