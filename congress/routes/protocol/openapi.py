"""The OpenAPI 3.1 document: every command as `POST …/commands/{op}` with its arguments' and its
result's schema, who may send it and the codes it can answer; then the other HTTP endpoints."""

from __future__ import annotations

import re
from typing import Any

from congress.application.commands import load_all
from congress.domain.commands import Command, Obj
from congress.routes.protocol.http import ENDPOINTS, Endpoint
from congress.routes.protocol.raises import COMMON_CODES
from congress.routes.protocol.shapes import param_spec, schema, who

_ERROR: dict[str, Any] = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}, "retry_after": {"type": "number"},
    # what the message is about, e.g. {"field": "questions"}: pages build their own words from it (docs/i18n.md)
    "params": {"type": "object"}},
    "required": ["code", "message"]}}}
_PARSE_CODES = ("bad_json", "bad_request", "missing_field", "bad_field", "unknown_op", "id_reused")


def _command(command: Command) -> dict[str, Any]:
    result = command.result or Obj(())
    codes = sorted({*command.errors, *_PARSE_CODES, *COMMON_CODES, "rate_limited", "unavailable"})
    error_schema = {**_ERROR, "properties": {"error": {**_ERROR["properties"]["error"], "properties": {
        **_ERROR["properties"]["error"]["properties"], "code": {"type": "string", "enum": codes}}}}}
    return {"post": {
        "operationId": command.op,
        "summary": command.summary,
        "description": f"{result.doc}\n\nWho: {who(command)}.\n\nErrors beyond the common ones: "
                       + (", ".join(command.errors) or "none") + ".",
        "tags": [command.action.__module__.rsplit(".", 1)[-1]],
        "x-writes": command.writes,
        "x-permissions": [p.value for p in command.permissions],
        "x-errors": list(command.errors),
        "parameters": [{"name": "congress_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "a retry with the same key, op and arguments gets the first result; "
                                       "another op or other arguments: 422 id_reused",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
                       {"name": "X-CSRF-Token", "in": "header", "required": command.writes,
                        "schema": {"type": "string"}}],
        "requestBody": {"required": bool(command.params), "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {p.name: schema(param_spec(p), p.doc) for p in command.params},
            "required": [p.name for p in command.params if p.required]}}}},
        "responses": {
            "200": {"description": result.doc or command.summary, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"result": schema(result)}, "required": ["result"]}}}},
            "default": {"description": "refused: " + ", ".join(codes), "content": {
                "application/json": {"schema": error_schema}}},
        },
    }}


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    names = re.findall(r"\{(\w+)", endpoint.path)
    operation: dict[str, Any] = {
        "summary": endpoint.summary,
        "description": f"Who: {endpoint.who}." + (f" Request: {endpoint.request}." if endpoint.request else ""),
        "responses": {str(endpoint.status): {"description": endpoint.summary,
                                             "content": {endpoint.content_type: {}}}},
    }
    if names:
        operation["parameters"] = [{"name": n, "in": "path", "required": True,
                                    "schema": {"type": "integer" if n.endswith("id") or n == "version" else "string"}}
                                   for n in names]
    if endpoint.errors:
        operation["responses"]["default"] = {"description": "refused: " + ", ".join(endpoint.errors),
                                             "content": {"application/json": {"schema": _ERROR}}}
    return operation


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        if endpoint.path.endswith("/commands/{op:str}"):
            continue  # each op is its own path below
        paths.setdefault(endpoint.plain_path, {})[endpoint.method.lower()] = _endpoint(endpoint)
    for op, command in sorted(load_all().items()):
        paths[f"/api/congresses/{{congress_id}}/commands/{op}"] = _command(command)
    return {"openapi": "3.1.0",
            "info": {"title": "congress", "version": "1",
                     "description": "The HTTP API of congress (docs/api.md); the same commands over the "
                                    "websocket: docs/protocol.md."},
            "paths": paths}
