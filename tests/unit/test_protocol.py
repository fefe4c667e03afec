"""The protocol's description is the command table's: every command declares its result, its error
codes (held against what its code raises: congress.routes.protocol.raises) and the shapes of its list and
object arguments; docs/protocol.md is what docs/generate.py writes; the OpenAPI document is valid
OpenAPI 3.1; every HTTP route is described."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route, WebSocketRoute

from congress.application.commands import load_all
from congress.domain.commands import ListOf, MapOf, Obj
from congress.routes.protocol.http import ENDPOINTS
from congress.routes.protocol.markdown import rewrite
from congress.routes.protocol.openapi import openapi_document
from congress.routes.protocol.raises import command_raises, what_it_raises

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = load_all()


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_every_command_declares_its_result(op: str) -> None:
    command = COMMANDS[op]
    assert isinstance(command.result, Obj), f"{op}: no result=Obj(...) in its Command(...)"
    assert command.result.doc or command.result.keys, f"{op}: the result says nothing"


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_declared_errors_are_what_the_code_raises(op: str) -> None:
    command = COMMANDS[op]
    found = command_raises(command.action)
    declared = set(command.errors)
    assert len(declared) == len(command.errors), f"{op}: a code declared twice"
    assert not found.codes - declared, f"{op} can answer {sorted(found.codes - declared)}: add to errors="
    assert not declared - found.codes, f"{op} declares {sorted(declared - found.codes)}, which its code does not raise"


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_declared_permissions_are_checked_by_the_code(op: str) -> None:
    command = COMMANDS[op]
    named = command_raises(command.action).permissions
    assert {p.value for p in command.permissions} <= named, f"{op}: its code names only {sorted(named)}"


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_shapes_fit_their_parameters(op: str) -> None:
    for param in COMMANDS[op].params:
        if param.shape is not None:
            expected = list if isinstance(param.shape, ListOf) else dict
            assert isinstance(param.shape, (Obj, ListOf, MapOf)) and param.type is expected, f"{op}.{param.name}"
        else:
            assert param.type not in (list, dict), f"{op}.{param.name}: a {param.type.__name__} needs shape="


def test_the_raises_reader_follows_calls_and_constants() -> None:
    """It finds a code two calls down in another module (votes -> domain.votes.next_status)."""
    assert "bad_vote_state" in what_it_raises("congress.actions.votes", "open_vote").codes
    assert "quorum_not_met" in what_it_raises("congress.actions.votes", "open_vote").codes
    assert "run_vote" in what_it_raises("congress.actions.votes", "open_vote").permissions


def test_protocol_page_is_generated_from_the_table() -> None:
    page = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert "<!-- generated: commands -->" in page and "<!-- generated: endpoints -->" in page
    assert page == rewrite(page), "docs/protocol.md differs from the table: run python docs/generate.py"


def test_openapi_document_is_valid_and_complete() -> None:
    document = openapi_document()
    validate(document)  # raises on anything that is not OpenAPI 3.1
    for op, command in COMMANDS.items():
        operation = document["paths"][f"/api/congresses/{{congress_id}}/commands/{op}"]["post"]
        assert operation["x-errors"] == list(command.errors)
        assert set(operation["requestBody"]["content"]["application/json"]["schema"]["properties"]) == {
            p.name for p in command.params}
    questions = document["paths"]["/api/congresses/{congress_id}/commands/enter_group_count"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]["properties"]["questions"]
    assert questions["type"] == "object" and "additionalProperties" in questions


def test_every_route_is_described() -> None:
    from congress.app import create_app
    from congress.settings import Settings

    app = create_app(Settings(database_url="sqlite:///:memory:"))
    routes = set()
    for route in app.routes:
        if isinstance(route, Mount):
            continue  # /static, /live: files
        if isinstance(route, WebSocketRoute):
            routes.add(("GET", route.path))
        elif isinstance(route, Route):
            routes |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    described = {(e.method, e.path) for e in ENDPOINTS}
    assert len(described) == len(ENDPOINTS)
    assert not routes - described, f"routes without an entry in congress/routes/protocol/http.py: {sorted(routes - described)}"
    assert not described - routes, f"entries for no route: {sorted(described - routes)}"


def _objects(spec: object):
    if isinstance(spec, Obj):
        yield spec
        for key in spec.keys:
            yield from _objects(key.spec)
    elif isinstance(spec, ListOf):
        yield from _objects(spec.item)
    elif isinstance(spec, MapOf):
        yield from _objects(spec.value)


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_an_object_names_each_key_once(op: str) -> None:
    command = COMMANDS[op]
    for obj in [*_objects(command.result), *(o for p in command.params for o in _objects(p.shape))]:
        names = [k.name for k in obj.keys]
        assert len(names) == len(set(names)), f"{op}: {sorted(n for n in names if names.count(n) > 1)}"
