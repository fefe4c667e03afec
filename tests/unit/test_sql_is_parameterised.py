"""SQL is never built from strings: every query goes through SQLAlchemy's expression language or a
constant `text()` with bound parameters. The probe behind issue 18 found none built by hand; this
keeps it so by reading the package's source (Python's own parser, no regex guessing)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "congress"
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "literal_column"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _built_from_strings(node: ast.expr) -> bool:
    """An f-string, a `%` or `+` on strings, or `.format(...)`: text assembled at run time."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr)) and not isinstance(getattr(side, "value", ""), int)
                   for side in (node.left, node.right))
    if isinstance(node, ast.Call) and _name(node.func) in ("format", "join"):
        return True
    return False


def assembled_sql(source: str, filename: str = "<source>") -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and _name(node.func) in SQL_CALLS and node.args:
            if _built_from_strings(node.args[0]):
                found.append(f"{filename}:{node.lineno}")
    return found


def test_the_check_finds_sql_built_from_strings() -> None:
    """The check itself can fail: each way of assembling SQL by hand is caught; a constant is not."""
    bad = '''
session.execute(sa.text(f"SELECT * FROM delegate WHERE name = '{name}'"))
session.execute(text("SELECT * FROM delegate WHERE id = %s" % delegate_id))
connection.exec_driver_sql("DELETE FROM vote WHERE id = " + str(vote_id))
session.execute(sa.text("SELECT {} FROM ballot".format(column)))
'''
    good = 'session.execute(sa.text("SELECT 1 WHERE :x = :x"), {"x": value})\n'
    assert len(assembled_sql(bad)) == 4
    assert assembled_sql(good) == []


def test_no_module_of_the_package_builds_sql_from_strings() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    found = [hit for path in files for hit in assembled_sql(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))]
    assert found == []
