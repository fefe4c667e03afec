"""How a command is declared, and its arguments checked against the declaration.

Pure: no I/O. Each writer module (congress.actions) and read module (congress.reads) declares its
commands as a `COMMANDS` tuple of `Command`; the application layer (congress.application.commands)
assembles them into the one table the websocket, the HTTP API, OpenAPI and docs/protocol.md share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from congress.domain.errors import DomainError
from congress.domain.permissions import Permission


@dataclass(frozen=True, slots=True)
class Key:
    """One key of an object: an argument's inside or a result's field."""

    name: str
    spec: Spec
    doc: str = ""
    required: bool = True  # in a result: always there (False: only in some answers)


@dataclass(frozen=True, slots=True)
class Obj:
    """An object with these keys."""

    keys: tuple[Key, ...]
    doc: str = ""


@dataclass(frozen=True, slots=True)
class ListOf:
    """A list whose items are all `item`."""

    item: Spec
    doc: str = ""


@dataclass(frozen=True, slots=True)
class MapOf:
    """An object whose keys the client chooses (`key` says what they are, e.g. a question's id)."""

    key: str
    value: Spec
    doc: str = ""


# What a value holds, for the protocol's description (congress.routes.protocol), not for parsing: a JSON
# type (int, str, bool, float, list, dict), None for any JSON value, or one of the shapes above.
Spec = type | None | Obj | ListOf | MapOf


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: type
    required: bool = True
    doc: str = ""
    # A list's or an object's inside (Obj or MapOf for dict, ListOf for list); parsing checks only `type`.
    shape: Obj | ListOf | MapOf | None = None


@dataclass(frozen=True, slots=True)
class Command:
    op: str
    action: Callable[..., dict[str, Any]]
    params: tuple[Param, ...]
    summary: str
    writes: bool = True
    # What a resend gets back (e.g. a secret ballot's receipt must not be stored beside the voter)
    stored_reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Work done before the write, in a read session off the writer (session, actor, congress id,
    # args): the action finds the result in `ctx.prepared` and checks that it still applies. Every
    # command of a group commit waits for the slowest one, so what can be computed beforehand is.
    prepare: Callable[[Any, Any, int | None, dict[str, Any]], Any] | None = None
    # CPU-bound, pure work on what `prepare` returned (e.g. checking a sealed ballot's proofs), run
    # in the Service's process pool so that it uses every core; a module-level function (picklable).
    check: Callable[[Any], Any] | None = None
    # `prepare` from what it cached earlier (the Service's prepare cache, args), on the event loop:
    # None when it must run after all. Saves a thread and a session per command in a burst.
    prepare_from_cache: Callable[[dict[Any, Any], dict[str, Any]], Any] | None = None
    # For the protocol (docs/protocol.md, the OpenAPI document), checked by tests/unit/test_protocol.py:
    # the answer's fields (`Obj.doc` says what the command does), the codes it can refuse with beyond
    # the common ones (congress.routes.protocol.raises.COMMON_CODES), the permissions that let one send it
    # (any of them; none: anyone who may read the congress) and, in words, who beyond that.
    result: Obj | None = None
    errors: tuple[str, ...] = ()
    permissions: tuple[Permission, ...] = ()
    who: str = ""
    # How the command batches: consecutive commands of this op in one group commit run together with
    # set-wise reads and writes, [(ctx, congress id, args)] -> each one's reply or DomainError, the
    # same as run one by one (congress.application.service). None: always one by one.
    run_many: Callable[[list[Any]], list[Any]] | None = None  # [(ctx, congress id, args)] -> replies
    # The refusal (code, words) when the database refuses the command's row as one it already holds
    # (a unique constraint, e.g. a second ballot); None: `conflict`, try again.
    on_duplicate: tuple[str, str] | None = None
    # Whether a reply means commands with a `check` will follow soon (a secret vote opened: sealed
    # ballots), so the Service starts its proof workers now rather than at the first ballot.
    readies_checks: Callable[[dict[str, Any]], bool] | None = None


_TYPE_NAMES = {int: "整数", str: "文本", bool: "是/否", list: "列表", dict: "对象"}
MAX_TEXT = 20000
# Every integer the table takes is an id, a count, a position or a number of seconds: PostgreSQL's
# INTEGER range. A larger one reached the database and came back as a server error (OverflowError
# on SQLite, a DataError on PostgreSQL) instead of a refusal naming the field (issue 18).
MIN_INT, MAX_INT = -(2**31), 2**31 - 1


def _clean(name: str, value: Any) -> None:
    """Refuse what no column can store, anywhere inside a value: NUL characters and lone surrogates
    (PostgreSQL and UTF-8 refuse them: a server error before), out-of-range integers, over-long text.
    (Every ballot passes here: type() tests and one list, a few microseconds for a sealed ballot.)"""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if len(item) > MAX_TEXT:
                raise DomainError("bad_field", f"字段 {name} 太长", params={"field": name})
            if "\x00" in item or not item.isascii() and not _is_utf8(item):
                raise DomainError("bad_field", f"字段 {name} 含有不能保存的字符（NUL 或不成对的代理字符）", params={"field": name})
        elif kind is int:
            if not MIN_INT <= item <= MAX_INT:
                raise DomainError("bad_field", f"字段 {name} 的数字超出范围", params={"field": name})
        elif kind is list:
            push(item)
        elif kind is dict:
            push(item)  # its keys
            push(item.values())


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_args(command: Command, body: dict[str, Any]) -> dict[str, Any]:
    """Check the arguments against the table: a clear error naming the field, nothing half-done."""
    if not isinstance(body, dict):
        raise DomainError("bad_request", "请求内容必须是 JSON 对象")
    args: dict[str, Any] = {}
    for param in command.params:
        value = body.get(param.name)
        if value is None:
            if param.required:
                raise DomainError("missing_field", f"缺少字段 {param.name}（{param.doc or _TYPE_NAMES[param.type]}）",
                                  params={"field": param.name})
            continue
        if param.type is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, param.type) or (param.type is int and isinstance(value, bool)):
            raise DomainError("bad_field", f"字段 {param.name} 应为{_TYPE_NAMES[param.type]}", params={"field": param.name})
        if not isinstance(value, bool):
            _clean(param.name, value)
        args[param.name] = value
    return args
