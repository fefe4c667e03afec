"""Every `bad_field` refusal names its field: `DomainError("bad_field", …, params={"field": …})`.

The message is Chinese; an English page builds its own words from the code and the params
(web/js/i18n.js `errorMessage`, `error.bad_field.field` in web/i18n/*.json). Without `field` it can only
say "a value you gave is not accepted". This reads the package's source with Python's own parser, so a
new refusal without its field fails here, named by file and line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "congress"


def _is_domain_error(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "DomainError") or (
        isinstance(func, ast.Attribute) and func.attr == "DomainError")


def _names_a_field(params: ast.expr) -> bool:
    """A dict literal with a "field" key; any other expression (a variable, a call, a dict with `**`)
    is taken on trust."""
    if not isinstance(params, ast.Dict):
        return True
    if any(key is None for key in params.keys):  # {**other, …}
        return True
    return any(isinstance(key, ast.Constant) and key.value == "field" for key in params.keys)


def unnamed_bad_fields(source: str, filename: str = "<source>") -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not (isinstance(node, ast.Call) and _is_domain_error(node.func) and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == "bad_field"):
            continue
        params = [k.value for k in node.keywords if k.arg == "params"] + node.args[2:3]
        if not params or not _names_a_field(params[0]):
            found.append(f"{filename}:{node.lineno}")
    return found


def test_the_check_finds_a_bad_field_without_its_field() -> None:
    """The check itself can fail: no params, params without "field"; named ones and other codes pass."""
    bad = '''
raise DomainError("bad_field", "议程标题不能为空")
raise DomainError("bad_field", "太长", params={"limit": 100})
raise errors.DomainError("bad_field", "太长", params={})
'''
    good = '''
raise DomainError("bad_field", "议程标题不能为空", params={"field": "title"})
raise DomainError("bad_field", f"{name}不能为空", params={"field": name, "limit": 100})
raise DomainError("bad_field", "太长", {"field": "title"})
raise DomainError("bad_field", "太长", params=field_params)
raise DomainError("not_found", "找不到表决")
'''
    assert unnamed_bad_fields(bad) == ["<source>:2", "<source>:3", "<source>:4"]
    assert unnamed_bad_fields(good) == []


def test_every_bad_field_of_the_package_names_its_field() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    found = [hit for path in files
             for hit in unnamed_bad_fields(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))]
    assert found == [], "DomainError(\"bad_field\", …) without params={\"field\": …}: " + ", ".join(found)
