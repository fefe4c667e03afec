"""JSON from the network (websocket frames, HTTP bodies), read with a bound on nesting.

No command of the table nests deeper than a few levels. Without a bound, a 64 KiB frame of 30,000
brackets made json.loads raise RecursionError: an HTTP 500 and a traceback in the log for every
such frame (issue 18). Now it is refused as `bad_request`, like any other malformed command.
"""

from __future__ import annotations

import json
from typing import Any

from congress.domain.errors import DomainError

MAX_DEPTH = 64


def too_deep() -> DomainError:
    return DomainError("bad_request", f"JSON 嵌套过深（最多 {MAX_DEPTH} 层）")


def read_json(text: str | bytes) -> Any:
    """The parsed value; DomainError `bad_json` if it is not JSON, `bad_request` if nested too deep."""
    try:
        value = json.loads(text)
    except RecursionError:  # nested deeper than the interpreter's stack: far beyond MAX_DEPTH
        raise too_deep() from None
    except ValueError:  # includes a body that is not UTF-8
        raise DomainError("bad_json", "内容不是有效的 JSON") from None
    if _deeper_than(value, MAX_DEPTH):
        raise too_deep()
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels: level by level, no recursion (a few
    microseconds for a sealed ballot, which every ballot frame pays)."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        add = below.append
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    add(child)
        level = below
    return False
