"""docs/protocol.md's generated sections, written from the command table, the HTTP endpoints and the
event declarations (congress/domain/events.py).

The page keeps its prose; what lies between a `<!-- generated: NAME -->` line and the next
`<!-- end generated -->` line is rewritten by `docs/generate.py`, and a test fails when the page
differs from what these functions write.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from congress.application.commands import load_all
from congress.domain.commands import Command, Obj
from congress.domain.events import protocol_table
from congress.routes.protocol.http import ENDPOINTS
from congress.routes.protocol.raises import COMMON_CODES
from congress.routes.protocol.shapes import flatten, param_spec, type_words, who

_BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _area(module: str) -> str:
    """A heading from the action module's docstring: its first line up to a colon or full stop."""
    doc = (importlib.import_module(module).__doc__ or module).strip().splitlines()[0]
    return re.split(r": |\. |\.$|：", doc)[0]


def _table(rows: list[tuple[str, str, str, str]], head: tuple[str, str, str, str]) -> list[str]:
    lines = [f"| {' | '.join(head)} |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(_cell(c) for c in row)} |" for row in rows]
    return lines


def command_text(command: Command) -> list[str]:
    lines = [f"#### `{command.op}`", ""]
    result = command.result or Obj(())
    lines.append(f"{command.summary}{' — ' + result.doc if result.doc else ''}")
    lines += ["", f"- who: {who(command)}",
              f"- {'writes (an `ack` once committed; a resent `id` gets the first answer)' if command.writes else 'reads only (answered afresh each time)'}"]
    codes = ", ".join(f"`{c}`" for c in command.errors)
    lines.append(f"- errors: {codes}, and the common ones (*Errors*)" if codes else "- errors: the common ones only (*Errors*)")
    lines.append("")
    if command.params:
        rows = [(f"`{path}`", type_words(spec), "yes" if req else "", doc)
                for p in command.params for path, spec, doc, req in flatten(p.name, param_spec(p), p.doc, p.required)]
        lines += _table(rows, ("argument", "type", "required", "meaning")) + [""]
    else:
        lines += ["No arguments.", ""]
    if result.keys:
        rows = [(f"`{path}`", type_words(spec), "always" if req else "sometimes", doc)
                for k in result.keys for path, spec, doc, req in flatten(k.name, k.spec, k.doc, k.required)]
        lines += _table(rows, ("result", "type", "in the answer", "meaning")) + [""]
    return lines


def commands_section() -> str:
    commands = load_all()
    by_area: dict[str, list[Command]] = {}
    for command in commands.values():
        by_area.setdefault(command.action.__module__, []).append(command)
    lines = [f"{len(commands)} commands. Codes every command may answer: "
             + ", ".join(f"`{c}`" for c in ("missing_field", "bad_field", "rate_limited", "unavailable",
                                            *sorted(COMMON_CODES))) + ".", "",
             "| op | who | | summary |", "|---|---|---|---|"]
    for module in sorted(by_area):
        lines += [f"| [`{c.op}`](#{c.op}) | {_cell(who(c))} | {'writes' if c.writes else 'reads'} | {_cell(c.summary)} |"
                  for c in by_area[module]]
    lines.append("")
    for module in sorted(by_area):
        lines += [f"### {_area(module)}", ""]
        for command in by_area[module]:
            lines += command_text(command)
    return "\n".join(lines)


def endpoints_section() -> str:
    lines = ["| request | who | body / query | answer |", "|---|---|---|---|"]
    for endpoint in ENDPOINTS:
        lines.append(f"| `{endpoint.method} {endpoint.plain_path}` | {_cell(endpoint.who)} | {_cell(endpoint.request or '—')} "
                     f"| {_cell(endpoint.summary)}{_cell('; errors: ' + ', '.join(f'`{c}`' for c in endpoint.errors)) if endpoint.errors else ''} |")
    return "\n".join(lines) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "commands": commands_section, "endpoints": endpoints_section,
    "events": protocol_table,  # the event types as congress/domain/events.py declares them
}


def rewrite(page: str) -> str:
    """The page with each generated block written afresh."""
    def fill(match: re.Match[str]) -> str:
        body = SECTIONS[match["name"]]()
        return f"{match.group(1)}\n{body.strip()}\n\n{match.group(4)}"
    return _BLOCK.sub(fill, page)
