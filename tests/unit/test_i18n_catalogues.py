"""The pages' catalogues (web/i18n/*.json) agree with each other and know every error code the
server can send: the same keys and the same {placeholders} in every language, and `error.<code>`
for each code raised in congress/ (plus `error.<code>.<param>…` where a raise site passes params)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "web" / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# Client code of the CLI tools (the rehearsal's simulated delegates): their dicts' codes are what
# they report about themselves, never a server's reply a page shows.
CLIENT_SIDE = ("rehearsal",)


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


def languages() -> list[str]:
    return sorted(p.stem for p in CATALOGUES.glob("*.json"))


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases}


def error_codes() -> dict[str, set[tuple[str, ...]]]:
    """Every code raised in congress/, each with the params key sets its raise sites pass (() for none).

    Found by reading the source (ast): DomainError("code", …) and calls of its subclasses,
    super().__init__("code", …) in a subclass, codes named by a module constant (SESSION_ENDED),
    (code, message) members of a refusal enum, and error replies written as dicts
    ({"code": "…", "message": …}, routes/ws.py's _error("code", …))."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in (ROOT / "congress").rglob("*.py")}
    errors = {"DomainError"}
    while True:  # subclasses, transitively (NotAdmitted(DomainError), …)
        more = {n.name for tree in trees.values() for n in ast.walk(tree)
                if isinstance(n, ast.ClassDef) and _base_names(n) & errors} - errors
        if not more:
            break
        errors |= more
    found: dict[str, set[tuple[str, ...]]] = {}

    def add(code: str, params: tuple[str, ...] = ()) -> None:
        assert CODE.match(code), f"not an error code: {code!r}"
        found.setdefault(code, set()).add(params)

    for path, tree in trees.items():
        client = path.relative_to(ROOT / "congress").parts[0] in CLIENT_SIDE
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                     for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(f, ast.FunctionDef) and f.name == "__init__" and [a.arg for a in f.args.args] == ["self", "code", "message"]
                    for f in node.body) and not _base_names(node) & errors:
                for member in node.body:  # WatchRefusal.WATCHING_OFF = ("watching_off", "…")
                    if isinstance(member, ast.Assign) and isinstance(member.value, ast.Tuple) and member.value.elts \
                            and isinstance(member.value.elts[0], ast.Constant):
                        add(member.value.elts[0].value)
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                is_super = name == "__init__" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                    and getattr(func.value.func, "id", "") == "super"
                if name in errors or is_super or name == "_error":
                    first = node.args[0]
                    code = first.value if isinstance(first, ast.Constant) else constants.get(getattr(first, "id", ""))
                    if not isinstance(code, str) or (is_super and not CODE.match(code)):
                        continue  # a code passed on (error.code) or another class's super()
                    params: tuple[str, ...] = ()
                    for keyword in node.keywords:
                        if keyword.arg == "params" and isinstance(keyword.value, ast.Dict):
                            params = tuple(sorted(k.value for k in keyword.value.keys if isinstance(k, ast.Constant)))
                    add(code, params)
            if isinstance(node, ast.Dict) and not client:
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
                if "message" in keys and isinstance(keys.get("code"), ast.Constant):
                    add(keys["code"].value)
    return found


def test_the_collector_finds_the_kinds_of_raise_sites() -> None:
    codes = error_codes()
    for code in ("bad_field", "missing_field",  # DomainError("…")
                 "rate_limited", "too_many_attempts", "unavailable",  # super().__init__ of a subclass
                 "session_ended", "access_changed",  # module constants
                 "watching_off", "watch_link_not_issued",  # the refusal enum
                 "cross_site", "internal_error", "refused"):  # dict replies
        assert code in codes, code
    assert ("field",) in codes["missing_field"]
    assert len(codes) > 100


def test_every_catalogue_has_the_same_keys_and_placeholders() -> None:
    langs = languages()
    assert {"zh-CN", "en"} <= set(langs)
    reference = catalogue("zh-CN")
    for lang in langs:
        other = catalogue(lang)
        assert sorted(set(reference) - set(other)) == [], f"{lang}.json lacks these keys"
        assert sorted(set(other) - set(reference)) == [], f"{lang}.json has keys zh-CN.json does not"
        differ = [key for key in reference if placeholders(reference[key]) != placeholders(other[key])]
        assert differ == [], f"{lang}.json: other {{placeholders}} than zh-CN.json in {differ}"
        assert all(isinstance(v, str) and v for v in other.values()), f"{lang}.json: every value a non-empty string"


def test_every_error_code_has_a_text_in_every_catalogue() -> None:
    needed = set()
    for code, param_sets in error_codes().items():
        needed.add(f"error.{code}")
        needed |= {f"error.{code}." + ".".join(params) for params in param_sets if params}
    for lang in languages():
        missing = sorted(needed - set(catalogue(lang)))
        assert missing == [], f"{lang}.json has no text for these error codes: {missing}"


def test_an_error_text_with_params_names_exactly_them() -> None:
    """error.bad_field.field says {field}; error.bad_field (no params) has no placeholder to leave unfilled."""
    for lang in languages():
        for key, text in catalogue(lang).items():
            if key.startswith("error."):
                assert placeholders(text) == set(key.split(".")[2:]), f"{lang}.json {key}: {text}"
