"""The HTTP JSON API: sign-in, state, the command table, roster import. Thin: parse, act, reply."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from functools import partial
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.actions.roster import RosterRejected, import_roster
from congress.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    ChooseCongress,
    Throttle,
    actor_for_session,
    find_session,
    observer_actor,
    revoke_session,
    sign_in_account,
    sign_in_delegate,
)
from congress.commands import COMMANDS
from congress.db.engine import RETRY_AFTER_SECONDS, DatabaseUnavailable, is_outage
from congress.db.models import Congress, SignInSession
from congress.domain.errors import DomainError
from congress.live.snapshot import build_snapshot, head_seq
from congress.permissions import Actor
from congress.routes.openapi import openapi_document
from congress.service import Service
from congress.watching import WATCH_HEADER, admit_anonymous
from congress.wire import read_json

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

STATUS = {"bad_credentials": 401, "too_many_attempts": 429, "not_signed_in": 401, "csrf": 403,
          "forbidden": 403, "read_only": 403, "other_group": 403, "not_group_leader": 403,
          "not_voting_delegate": 403, "not_found": 404, "unknown_op": 404, "no_such_congress": 404,
          "choose_congress": 409, "id_reused": 422, "unavailable": 503, "watching_off": 403,
          "watch_token_required": 401, "watch_link_not_issued": 403}


def error_response(error: DomainError, **extra: Any) -> JSONResponse:
    headers = None
    if error.code == "unavailable":  # the database is unreachable: try again shortly
        extra["retry_after"] = RETRY_AFTER_SECONDS
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse({"error": {"code": error.code, "message": error.message, **extra}},
                        status_code=STATUS.get(error.code, 409 if error.code.endswith("state") else 400), headers=headers)


async def database_outage(request: Request, exc: Exception) -> Response:
    """Every HTTP route: the database unreachable is 503 `unavailable` with Retry-After, not a 500
    (issue 18); any other database error goes on to the server-error handler as before."""
    if not is_outage(exc):
        raise exc
    log.warning("%s %s: the database is unreachable (%s)", request.method, request.url.path, exc.__class__.__name__)
    return error_response(DatabaseUnavailable())


def _service(request: Request) -> Service:
    return request.app.state.service


def _signed_in(request: Request) -> tuple[Actor | None, SignInSession | None]:
    service = _service(request)
    with service.db.read() as session:
        row = find_session(session, request.cookies.get(SESSION_COOKIE), service.clock())
        if row is None:
            return None, None
        return actor_for_session(session, row), row


async def _actor(request: Request, *, writing: bool) -> Actor:
    actor, row = await anyio.to_thread.run_sync(_signed_in, request)
    if actor is None or row is None:
        if writing:
            if request.cookies.get(SESSION_COOKIE):  # signed out, expired or revoked: sign in again
                raise DomainError("not_signed_in", "请先登录（登录已失效）")
            raise DomainError("read_only", "未登录的观众（云听会）只能观看，不能进行任何操作；请先登录")
        # An anonymous reader is an observer: the same rule as the websocket (congress.watching)
        congress_id = int(request.path_params.get("congress_id", 0))
        await admit_anonymous(_service(request), congress_id,
                              request.query_params.get("watch") or request.headers.get(WATCH_HEADER),
                              request.client.host if request.client else None)
        return observer_actor(congress_id)
    if writing and not secrets.compare_digest(request.headers.get(CSRF_HEADER, ""), row.csrf_token):
        raise DomainError("csrf", "请求缺少有效的 CSRF 令牌，请刷新页面后重试")
    return actor


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = read_json(await request.body())  # nesting bounded: 30,000 brackets were a 500
    except DomainError as refused:
        if refused.code == "bad_json":
            raise DomainError("bad_json", "请求内容不是有效的 JSON") from None
        raise
    if not isinstance(body, dict):
        raise DomainError("bad_request", "请求内容必须是 JSON 对象")
    return body


def _throttle(request: Request) -> Throttle:
    s = request.app.state.settings
    return Throttle(s.sign_in_failures_per_account, s.sign_in_failures_per_address,
                    timedelta(seconds=s.sign_in_window_seconds))


async def sign_in(request: Request) -> Response:
    service, settings = _service(request), request.app.state.settings
    try:
        body = await _json(request)
        address = request.client.host if request.client else None

        def work() -> dict[str, Any]:
            with service.db.write() as session:
                now = service.clock()
                try:
                    if "employee_id" in body:
                        # Without congress_id: the congress in session that this 工号 and code open.
                        congress_id = int(body["congress_id"]) if body.get("congress_id") else None
                        new = sign_in_delegate(session, congress_id, str(body["employee_id"]).strip(),
                                               str(body.get("code", "")), now=now, hours=settings.session_hours,
                                               address=address, throttle=_throttle(request))
                    else:
                        new = sign_in_account(session, str(body.get("login", "")).strip(),
                                              str(body.get("password", "")), now=now, hours=settings.session_hours,
                                              address=address, throttle=_throttle(request))
                except DomainError as error:
                    if error.code != "bad_credentials":
                        raise
                    refused = error  # leave the block normally: the failure just recorded is committed
                else:
                    actor = actor_for_session(session, new.row)
                    assert actor is not None
                    return {"token": new.token, "csrf_token": new.csrf_token, "role": actor.role.value,
                            "name": actor.name, "congress_id": actor.congress_id}
            raise refused  # only after the commit, so throttling counts every failed attempt

        result = await anyio.to_thread.run_sync(work, limiter=request.app.state.service.sign_in_limiter)
    except ChooseCongress as choice:
        return error_response(choice, congresses=choice.congresses)
    except DomainError as error:
        return error_response(error)
    response = JSONResponse({k: v for k, v in result.items() if k != "token"})
    response.set_cookie(SESSION_COOKIE, result["token"], max_age=settings.session_hours * 3600, httponly=True,
                        samesite="lax", secure=settings.is_https or request.url.scheme == "https", path="/")
    return response


async def sign_out(request: Request) -> Response:
    service = _service(request)
    token = request.cookies.get(SESSION_COOKIE)
    try:
        await _actor(request, writing=True)
    except DomainError as error:
        return error_response(error)

    def work() -> None:
        with service.db.write() as session:
            revoke_session(session, token or "", service.clock())

    await anyio.to_thread.run_sync(work)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: Request) -> Response:
    actor, row = await anyio.to_thread.run_sync(_signed_in, request)
    if actor is None or row is None:
        return JSONResponse({"role": "observer"})
    return JSONResponse({"role": actor.role.value, "name": actor.name, "congress_id": actor.congress_id,
                         "delegate_id": actor.delegate_id, "group_id": actor.group_id,
                         "is_group_leader": actor.is_group_leader, "is_voting": actor.is_voting,
                         "csrf_token": row.csrf_token})


async def congresses(request: Request) -> Response:
    service = _service(request)

    def work() -> list[dict[str, Any]]:
        with service.db.read() as session:
            return [{"id": c.id, "name": c.name, "status": c.status, "is_rehearsal": c.is_rehearsal,
                     "watch_mode": c.watch_mode}
                    for c in session.scalars(sa.select(Congress).order_by(Congress.id.desc()))]

    return JSONResponse({"congresses": await anyio.to_thread.run_sync(work)})


async def state(request: Request) -> Response:
    """The same snapshot the websocket sends first, for pages and scripts that only read."""
    service = _service(request)
    congress_id = int(request.path_params["congress_id"])
    try:
        actor = await _actor(request, writing=False)  # an anonymous reader: the observers' rule
    except DomainError as error:
        return error_response(error)

    def work() -> dict[str, Any]:
        with service.db.read() as session:
            congress = session.get(Congress, congress_id)
            if congress is None:
                raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
            return {"seq": head_seq(session, congress_id), "role": actor.role.value,
                    "snapshot": build_snapshot(session, congress_id, actor)}

    try:
        return JSONResponse(await anyio.to_thread.run_sync(work))
    except DomainError as error:
        return error_response(error)


async def command(request: Request) -> Response:
    """POST /api/congresses/{id}/commands/{op}: any op of the command table (docs/api.md)."""
    congress_id = int(request.path_params["congress_id"])
    op = request.path_params["op"]
    try:
        if op not in COMMANDS:
            raise DomainError("unknown_op", f"未知的操作：{op}")
        writes = COMMANDS[op].writes
        actor = await _actor(request, writing=writes)
        body = await _json(request)
        key = request.headers.get("idempotency-key")
        result = await _service(request).run(actor, op, congress_id, body, key)
        return JSONResponse({"result": result})
    except DomainError as error:
        return error_response(error)


async def roster(request: Request) -> Response:
    """POST the roster file as the body (or multipart field `file`); ?dry_run=1 only checks."""
    congress_id = int(request.path_params["congress_id"])
    try:
        actor = await _actor(request, writing=True)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise DomainError("missing_field", "缺少名册文件（字段 file）")
            data, filename = await upload.read(), upload.filename or "roster.csv"
        else:
            data, filename = await request.body(), request.query_params.get("filename", "roster.csv")
        if len(data) > MAX_UPLOAD_BYTES:
            raise DomainError("too_large", "名册文件超过 20 MB")
        flags = request.query_params
        result = await _service(request).run_direct(
            actor, partial(import_roster, dry_run=flags.get("dry_run") in ("1", "true"),
                           create_groups=flags.get("create_groups") in ("1", "true")),
            congress_id, data, filename)
        return JSONResponse({"result": result})
    except RosterRejected as rejected:
        return error_response(rejected, rows=[{"row": e.row, "column": e.column, "reason": e.reason}
                                              for e in rejected.roster.errors])
    except DomainError as error:
        return error_response(error)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


routes = [
    Route("/api/sign-in", sign_in, methods=["POST"]),
    Route("/api/sign-out", sign_out, methods=["POST"]),
    Route("/api/me", me),
    Route("/api/congresses", congresses),
    Route("/api/congresses/{congress_id:int}/state", state),
    Route("/api/congresses/{congress_id:int}/commands/{op:str}", command, methods=["POST"]),
    Route("/api/congresses/{congress_id:int}/roster", roster, methods=["POST"]),
    Route("/api/openapi.json", openapi),
]
