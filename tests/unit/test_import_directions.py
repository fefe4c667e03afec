"""The folder tree is the architecture (docs/architecture.md): imports point one way.

Each part of the package is a folder; a part may import itself and the parts in the layers below
its own, never one above or beside it. Every import counts: at module level, inside a function
and under TYPE_CHECKING. The check reads the source with `ast`, so it runs in milliseconds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "congress"

# Top to bottom. Parts in one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("app", "cli"),  # the app factory and the command line: they put the parts together
    ("routes", "demo", "rehearsal"),  # HTTP, websocket and pages; the demo congress; the dress rehearsal
    ("streaming", "client"),  # the live stream's files and health; programs talking to a server over HTTP
    ("application",),  # the command table, the write service, permissions at the door, sign-in, access
    ("live",),  # hub, connections, frames, backplane, observer line, LiveState
    ("actions",),  # the writers: one function per user action
    ("notices",),  # the outbox a writer fills and the channels it is sent by
    ("records",),  # the chain, archive, verify, minutes, spreadsheets and PDFs
    ("reads",),  # what a viewer reads: snapshot, staff views, the board
    ("ops",),  # metrics, health, backups
    ("db",),  # storage
    ("sealed",),  # secret ballots' cryptography
    ("tally",),  # counting, categorising
    ("domain", "settings"),  # pure rules; settings from the environment
)
LAYER_OF = {part: depth for depth, parts in enumerate(LAYERS) for part in parts}
ROOT_MODULES = {"__init__.py", "app.py", "settings.py"}


def part_of(module: str) -> str | None:
    """congress.actions.votes -> actions; congress.app -> app; other packages -> None."""
    names = module.split(".")
    if names[0] != "congress":
        return None
    return names[1] if len(names) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    names = list(relative.parts)
    if names[-1] == "__init__":
        names.pop()
    return ".".join(names)


def imports_of(path: Path, text: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(text)
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "congress":  # `from congress import x`: x is the part
                found += [(node.lineno, f"congress.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def wrong_way(source_part: str, target_part: str) -> bool:
    if source_part == target_part:
        return False
    return LAYER_OF[target_part] <= LAYER_OF[source_part]


def violations(planted: dict[Path, str] | None = None) -> list[str]:
    """Every import against the layers; `planted`: some files' text as a test changes it."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = part_of(module_name(path))
        text = (planted or {}).get(path) or path.read_text(encoding="utf-8")
        for line, target in imports_of(path, text):
            target_part = part_of(target)
            if target_part is None or source is None:
                continue
            if target_part not in LAYER_OF or source not in LAYER_OF:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {target} (part not in LAYERS)")
            elif wrong_way(source, target_part):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source} imports {target}")
    return found


def test_every_import_points_down_the_layers() -> None:
    assert violations() == []


def test_every_part_is_a_folder_with_a_docstring_saying_what_it_is() -> None:
    for parts in LAYERS:
        for part in parts:
            if part in ("app", "settings"):
                assert (PACKAGE / f"{part}.py").is_file(), part
                continue
            init = PACKAGE / part / "__init__.py"
            assert init.is_file(), f"congress/{part} is not a package"
            docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            assert docstring and len(docstring) > 80, f"congress/{part}/__init__.py needs a paragraph saying what it is"


def test_the_package_root_holds_only_the_app_factory_the_settings_and_the_packages() -> None:
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose <= ROOT_MODULES, f"modules loose at the package root: {loose - ROOT_MODULES}"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYER_OF), f"folders not in LAYERS: {folders - set(LAYER_OF)}"


@pytest.mark.parametrize(("source", "line", "why"), [
    ("congress/reads/votes.py", "from congress.actions.votes import open_vote", "a read importing a writer"),
    ("congress/live/hub.py", "from congress.application.service import Service", "live importing the application"),
    ("congress/actions/votes.py", "from congress.live.hub import Hub", "a writer importing live"),
    ("congress/actions/votes.py", "from congress.routes import ws", "a writer importing routes"),
    ("congress/records/chain.py", "from congress.actions.base import Context", "records importing a writer"),
    ("congress/domain/votes.py", "from congress.db.models import Vote", "a pure rule importing storage"),
    ("congress/actions/votes.py", "from ..application import commands", "a relative import the wrong way"),
    ("congress/reads/votes.py", "from congress import actions", "`from congress import <part>`"),
])
def test_an_import_against_the_directions_is_caught(source: str, line: str, why: str) -> None:
    path = PACKAGE.parent / source
    found = violations({path: path.read_text(encoding="utf-8") + f"\n{line}\n"})
    assert len(found) == 1 and found[0].startswith(source), (why, found)
