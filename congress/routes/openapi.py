"""The OpenAPI description, generated from the command table so it cannot drift from the code."""

from __future__ import annotations

from typing import Any

from congress.application.commands import COMMANDS, load_all

_SCHEMA_TYPES = {int: "integer", str: "string", bool: "boolean", list: "array", dict: "object"}
_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"},
    # what the message is about, e.g. {"field": "questions"}: pages build their own words from it (docs/i18n.md)
    "params": {"type": "object"}}}}}


def openapi_document() -> dict[str, Any]:
    load_all()
    paths: dict[str, Any] = {
        "/api/sign-in": {"post": {"summary": "登录：工作人员/部门用 login+password，代表用 employee_id+code",
                                  "responses": {
                                      "200": {"description": "已登录，设置会话 Cookie"},
                                      "400": {"description": "bad_request：字段类型或长度不对，message 指明字段"},
                                      "401": {"description": "bad_credentials；开始等待时带 retry_after（秒）"},
                                      "409": {"description": "choose_congress：congresses 列出可进入的职代会"},
                                      "429": {"description": "too_many_attempts：retry_after 秒后再试（及 Retry-After 头）"}}}},
        "/api/sign-out": {"post": {"summary": "退出登录", "responses": {"200": {"description": "ok"}}}},
        "/api/me": {"get": {"summary": "当前身份与 CSRF 令牌", "responses": {"200": {"description": "ok"}}}},
        "/api/congresses": {"get": {"summary": "职代会列表", "responses": {"200": {"description": "ok"}}}},
        "/api/congresses/{congress_id}/state": {"get": {"summary": "按身份可见的职代会快照",
                                                        "responses": {"200": {"description": "ok"}}}},
        "/api/congresses/{congress_id}/roster": {"post": {
            "summary": "导入名册（CSV/GB18030/XLSX）；?dry_run=1 只检查；有错误时整份不导入",
            "responses": {"200": {"description": "导入摘要"}, "400": {"description": "逐行错误"},
                          "413": {"description": "too_large：超过上限（20 MB、20000 行、XLSX 解压 50 MB 或压缩比 "
                                                 "100:1 等，见 docs/api.md），message 指明哪一项；整份不导入"}}}},
    }
    for op, command in sorted(COMMANDS.items()):
        properties = {p.name: {"type": _SCHEMA_TYPES[p.type], "description": p.doc} for p in command.params}
        paths[f"/api/congresses/{{congress_id}}/commands/{op}"] = {"post": {
            "operationId": op,
            "summary": command.summary,
            "parameters": [{"name": "congress_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                           {"name": "Idempotency-Key", "in": "header", "required": False,
                            "description": "a retry with the same key, op and arguments gets the first result; "
                                           "another op or other arguments: 422 id_reused",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
                           {"name": "X-CSRF-Token", "in": "header", "required": command.writes,
                            "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": properties,
                "required": [p.name for p in command.params if p.required]}}}},
            "responses": {"200": {"description": "结果"}, "400": {"description": "被拒绝", "content": {
                "application/json": {"schema": _ERROR}}}},
        }}
    return {"openapi": "3.1.0", "info": {"title": "congress", "version": "1"}, "paths": paths}
