"""What an action can answer, read from its source: the `DomainError` codes it raises and the
`Permission`s it names, in the action function and everything it calls inside the congress package.

A test holds these against the command table's `errors` and `permissions`, so the protocol page
cannot promise less (or other) than the code does. Limits, on purpose: calls are followed by name
only — a function of the same module, one imported by name from a `congress.*` module, a method
of `Context` called on `ctx`, a method of the same class on `self`; a code is found only when it is
a string literal or a module-level string constant (`DomainError(code, …)` with a variable code is
not); calls through other objects (`actor.require`, a row's method) or passed as values are not
followed. So the answer can miss a code, never invent one.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# Refusals every command may answer, documented once in docs/protocol.md's *Errors*: the actor's
# permission and session (permissions.Actor.require, domain.access), the congress itself.
COMMON_CODES = frozenset({
    "read_only", "forbidden", "other_group", "not_group_leader", "not_voting_delegate",
    "other_congress", "session_ended", "access_changed", "no_such_congress",
})


@dataclass
class Found:
    codes: set[str] = field(default_factory=set)
    permissions: set[str] = field(default_factory=set)  # named anywhere (in `require` and `may` alike)


@dataclass(frozen=True)
class _Module:
    name: str
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]  # "f" and "Class.method"
    imported: dict[str, tuple[str, str | None]]  # local name -> (module, name or None for a module)
    constants: dict[str, str]  # module-level NAME = "text"


@cache
def _module(name: str) -> _Module | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    imported: dict[str, tuple[str, str | None]] = {}
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[f"{node.name}.{item.name}"] = item
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("congress"):
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("congress") and alias.asname:
                    imported[alias.asname] = (alias.name, None)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return _Module(name, functions, imported, constants)


def _defined(module_name: str, name: str) -> tuple[str, str] | None:
    """Where a function (or "Class.method") a module offers is defined, through re-exports
    (`from congress.tally import validate_group_count` is congress.tally.handcount's)."""
    for _hop in range(5):
        module = _module(module_name)
        if module is None:
            return None
        if name in module.functions:
            return module_name, name
        head, _, rest = name.partition(".")
        if head not in module.imported or module.imported[head][1] is None:
            return None
        module_name, head = module.imported[head]  # type: ignore[assignment]
        name = f"{head}.{rest}" if rest else head
    return None


def _resolve_name(module: _Module, name: str) -> tuple[str, str] | None:
    """(module, function) that a bare name calls, if it is one of ours."""
    return _defined(module.name, name)


def _code_of(module: _Module, node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in module.constants:
            return module.constants[node.id]
        if node.id in module.imported:
            source, attr = module.imported[node.id]
            target = _module(source)
            if target is not None and attr in target.constants:
                return target.constants[attr]
    return None


def _callee(module: _Module, function: str, call: ast.Call) -> tuple[str, str] | None:
    target = call.func
    if isinstance(target, ast.Name):
        return _resolve_name(module, target.id)
    if not isinstance(target, ast.Attribute):
        return None
    base = target.value
    if isinstance(base, ast.Name) and base.id == "ctx":
        # a writer's Context, or what it inherits from the readers' ReadContext (get, find)
        writer = _module("congress.actions.base")
        if writer is not None and f"Context.{target.attr}" in writer.functions:
            return "congress.actions.base", f"Context.{target.attr}"
        return "congress.reads.context", f"ReadContext.{target.attr}"
    if isinstance(base, ast.Name) and base.id in ("self", "cls") and "." in function:
        name = f"{function.split('.')[0]}.{target.attr}"
        return (module.name, name) if name in module.functions else None
    if isinstance(base, ast.Name) and base.id in module.imported:
        source, attr = module.imported[base.id]
        # `module.f(...)` of an imported congress module, or `Class.method(...)` of an imported class
        return _defined(source, target.attr if attr is None else f"{attr}.{target.attr}")
    if isinstance(base, ast.Name) and f"{base.id}.{target.attr}" in module.functions:
        return module.name, f"{base.id}.{target.attr}"
    return None


def what_it_raises(module_name: str, function: str) -> Found:
    """The codes and permissions of one function and everything it calls (see the module's limits)."""
    found = Found()
    seen: set[tuple[str, str]] = set()
    todo = [(module_name, function)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        module = _module(key[0])
        if module is None or key[1] not in module.functions:
            continue
        for node in ast.walk(module.functions[key[1]]):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "Permission":
                found.permissions.add(node.attr.lower())
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "DomainError" and node.args:
                code = _code_of(module, node.args[0])
                if code is not None:
                    found.codes.add(code)
                continue
            callee = _callee(module, key[1], node)
            if callee is not None:
                todo.append(callee)
    return found


def command_raises(action: object) -> Found:
    """For a command's action function: the codes beyond the common ones, and its permissions."""
    found = what_it_raises(action.__module__, action.__qualname__)  # type: ignore[attr-defined]
    found.codes -= COMMON_CODES
    return found
