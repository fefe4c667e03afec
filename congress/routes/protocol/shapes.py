"""Reading the command table's declarations for a description: who may send a command (from the
permissions map), a value's type in words and as JSON Schema, an object's keys as dotted paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from congress.domain.commands import Command, ListOf, MapOf, Obj, Spec
from congress.domain.kinds import Role
from congress.domain.permissions import GRANTS, LEADER_ONLY, VOTING_ONLY, Permission

_TYPE_WORDS = {int: "integer", str: "text", bool: "boolean", float: "number", list: "list", dict: "object"}
_SCHEMA = {int: "integer", str: "string", bool: "boolean", float: "number", list: "array", dict: "object"}


def roles(permission: Permission) -> list[str]:
    """Who holds a permission, in words, from permissions.GRANTS (a delegate's may be narrowed)."""
    names = []
    for role in (Role.STAFF, Role.DELEGATE, Role.DEPARTMENT, Role.OBSERVER):
        if permission not in GRANTS[role]:
            continue
        if role is Role.DELEGATE and permission in LEADER_ONLY:
            names.append("the group's leader")
        elif role is Role.DELEGATE and permission in VOTING_ONLY:
            names.append("voting delegate")
        else:
            names.append(role.value)
    return names


def who(command: Command) -> str:
    """The roles that may send it (any of its permissions), then the declared words."""
    if command.permissions:
        found: list[str] = []
        for permission in command.permissions:
            found += [r for r in roles(permission) if r not in found]
        text = ", ".join(found) + " (" + ", ".join(f"`{p.value}`" for p in command.permissions) + ")"
    else:
        text = "anyone who may read the congress"
    return f"{text}; {command.who}" if command.who else text


def type_words(spec: Spec) -> str:
    """`integer`, `list of object`, `object: question id → object` …"""
    if spec is None:
        return "any"
    if isinstance(spec, Obj):
        return "object"
    if isinstance(spec, ListOf):
        return f"list of {type_words(spec.item)}"
    if isinstance(spec, MapOf):
        return f"object: {spec.key} → {type_words(spec.value)}"
    return _TYPE_WORDS[spec]


def _inner(spec: Spec) -> tuple[str, Obj] | None:
    """The object nested in a spec, with the path step that reaches it: `.`, `[].`, `.<key>.`."""
    if isinstance(spec, Obj):
        return ".", spec
    if isinstance(spec, ListOf):
        inner = _inner(spec.item)
        return (f"[]{inner[0]}", inner[1]) if inner else None
    if isinstance(spec, MapOf):
        inner = _inner(spec.value)
        return (f".<{spec.key}>{inner[0]}", inner[1]) if inner else None
    return None


def flatten(name: str, spec: Spec, doc: str, required: bool) -> Iterator[tuple[str, Spec, str, bool]]:
    """(path, spec, doc, required) for a value and every key inside it: `questions.<question id>.counts`."""
    yield name, spec, doc or (spec.doc if isinstance(spec, (Obj, ListOf, MapOf)) else ""), required
    inner = _inner(spec)
    if inner is not None:
        step, obj = inner
        for key in obj.keys:
            yield from flatten(f"{name}{step}{key.name}", key.spec, key.doc, key.required)


def param_spec(param: Any) -> Spec:
    return param.shape if param.shape is not None else param.type


def schema(spec: Spec, doc: str = "") -> dict[str, Any]:
    """JSON Schema (OpenAPI 3.1) of a value."""
    out: dict[str, Any]
    if spec is None:
        out = {}
    elif isinstance(spec, Obj):
        out = {"type": "object", "properties": {k.name: schema(k.spec, k.doc) for k in spec.keys}}
        required = [k.name for k in spec.keys if k.required]
        if required:
            out["required"] = required
    elif isinstance(spec, ListOf):
        out = {"type": "array", "items": schema(spec.item)}
    elif isinstance(spec, MapOf):
        out = {"type": "object", "additionalProperties": schema(spec.value),
               "description": f"keys: {spec.key}"}
    else:
        out = {"type": _SCHEMA[spec]}
    text = doc or (spec.doc if isinstance(spec, (Obj, ListOf, MapOf)) else "")
    if text:
        out["description"] = f"{text} ({out['description']})" if "description" in out else text
    return out
