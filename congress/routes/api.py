"""The HTTP JSON API: sign-in, state, the command table, roster import. Thin: parse, act, reply."""

from __future__ import annotations

import logging
import secrets
from functools import partial
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.actions.roster import RosterRejected, import_roster
from congress.application.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    BadCredentials,
    ChooseCongress,
    TooManyAttempts,
    actor_for_session,
    find_session,
    observer_actor,
    revoke_session,
    sign_in_account,
    sign_in_delegate,
)
from congress.application.commands import COMMANDS
from congress.application.observer_start import observer_start, parse_as_of, state_text
from congress.application.ratelimit import COMMAND_COST, UPLOAD_COST, RateLimited
from congress.application.service import Service
from congress.application.watching import WATCH_HEADER, admit_anonymous
from congress.db.engine import RETRY_AFTER_SECONDS, DatabaseUnavailable, is_outage
from congress.db.models import Congress, SignInSession
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.reads.snapshot import build_snapshot, head_seq
from congress.routes.openapi import openapi_document
from congress.routes.wire import read_json

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

STATUS = {"bad_credentials": 401, "too_many_attempts": 429, "not_signed_in": 401, "csrf": 403,
          "forbidden": 403, "read_only": 403, "other_group": 403, "not_group_leader": 403,
          "not_voting_delegate": 403, "other_congress": 403, "session_ended": 401, "access_changed": 409, "not_found": 404, "unknown_op": 404, "no_such_congress": 404,
          "choose_congress": 409, "watching_off": 403, "watch_token_required": 401, "watch_link_not_issued": 403, "rate_limited": 429,
          "id_reused": 422, "unavailable": 503, "too_large": 413}


def error_response(error: DomainError, **extra: Any) -> JSONResponse:
    headers = None
    if isinstance(error, RateLimited):
        extra["retry_after"] = round(error.retry_after, 3)
        headers = {"Retry-After": error.retry_after_header}
    if error.code == "unavailable":  # the database is unreachable: try again shortly
        extra["retry_after"] = RETRY_AFTER_SECONDS
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse({"error": {**error.reply(), **extra}},
                        status_code=STATUS.get(error.code, 409 if error.code.endswith("state") else 400), headers=headers)


async def database_outage(request: Request, exc: Exception) -> Response:
    """Every HTTP route: the database unreachable is 503 `unavailable` with Retry-After, not a 500
    (issue 18); any other database error goes on to the server-error handler as before."""
    if not is_outage(exc):
        raise exc
    log.warning("%s %s: the database is unreachable (%s)", request.method, request.url.path, exc.__class__.__name__)
    return error_response(DatabaseUnavailable())


async def spend(request: Request, actor: Actor, cost: float = COMMAND_COST) -> None:
    """From this person's rate budget, shared with their websockets (congress.application.ratelimit); 429 when spent."""
    await request.app.state.budget.charge(actor, request.client.host if request.client else None,
                                          request.cookies.get(SESSION_COOKIE), cost)


async def refuse_early(request: Request, cost: float = COMMAND_COST) -> None:
    """429 before the session is read, for a sign-in already known to be over its budget."""
    await request.app.state.budget.refuse_early(request.cookies.get(SESSION_COOKIE), cost)


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
        # An anonymous reader is an observer: the same rule as the websocket (congress.application.watching)
        congress_id = int(request.path_params.get("congress_id", 0))
        await admit_anonymous(_service(request), congress_id,
                              request.query_params.get("watch") or request.headers.get(WATCH_HEADER),
                              request.client.host if request.client else None)
        return observer_actor(congress_id)
    if writing and not secrets.compare_digest(request.headers.get(CSRF_HEADER, ""), row.csrf_token):
        raise DomainError("csrf", "请求缺少有效的 CSRF 令牌，请刷新页面后重试")
    if "congress_id" in request.path_params:  # a delegate only under their own congress (docs/api.md)
        actor.require_congress(int(request.path_params["congress_id"]))
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


def _sign_in_field(body: dict[str, Any], name: str, max_length: int, *, number: bool = False) -> Any:
    """One field of the sign-in body, of the right type, or 400 bad_request naming it."""
    value = body.get(name)
    if number:  # congress_id: absent, null or 0 for none; a whole number (or its digits) otherwise
        if value in (None, "", 0):
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DomainError("bad_request", f"字段 {name} 应为职代会编号（正整数）")
        return value
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "employee_id":
        value = str(value)  # a 工号 of digits sent as a number
    if not isinstance(value, str):
        raise DomainError("bad_request", f"字段 {name} 应为文本")
    if len(value) > max_length:
        raise DomainError("bad_request", f"字段 {name} 太长（最多 {max_length} 个字符）")
    return value


async def sign_in(request: Request) -> Response:
    service, settings = _service(request), request.app.state.settings
    try:
        body = await _json(request)
        address = request.client.host if request.client else None
        is_delegate = "employee_id" in body
        # Bad types are refused before anything is looked up: 400 naming the field, never a 500.
        fields = ({"congress_id": _sign_in_field(body, "congress_id", 0, number=True),
                   "employee_id": _sign_in_field(body, "employee_id", 32), "code": _sign_in_field(body, "code", 64)}
                  if is_delegate else
                  {"login": _sign_in_field(body, "login", 100), "password": _sign_in_field(body, "password", 1024)})

        def work() -> dict[str, Any]:
            with service.db.write() as session:
                now = service.clock()
                try:
                    if is_delegate:
                        # Without congress_id: the congress in session that this 工号 and code open.
                        new = sign_in_delegate(session, fields["congress_id"], fields["employee_id"].strip(),
                                               fields["code"], now=now, hours=settings.session_hours,
                                               address=address)
                    else:
                        new = sign_in_account(session, fields["login"].strip(), fields["password"], now=now,
                                              hours=settings.session_hours, address=address)
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
    except TooManyAttempts as wait:  # how long, in the body, the header and the message
        response = error_response(wait, retry_after=wait.retry_after)
        response.headers["Retry-After"] = str(wait.retry_after)
        return response
    except BadCredentials as refused:  # and when the next attempt may come, if not at once
        return error_response(refused, **({"retry_after": refused.retry_after} if refused.retry_after else {}))
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
    await service.access_changed()  # this session's open sockets close too, on every worker
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
    if actor.role is Role.OBSERVER:  # held: nothing younger than the stream's hold (docs/streaming.md)
        return await _held_state(request, congress_id)

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


async def _held_state(request: Request, congress_id: int) -> Response:
    """An anonymous reader's state: as of min(as_of, now - H), the due public events after it."""
    try:
        as_of = parse_as_of(request.query_params.get("as_of"))
    except ValueError:
        return error_response(DomainError("bad_request", "as_of 不是有效的时间（ISO 8601 含时区，或 Unix 秒数）"))

    def exists() -> bool:
        with _service(request).db.read() as session:
            return session.get(Congress, congress_id) is not None

    if not await anyio.to_thread.run_sync(exists):
        return error_response(DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会"))
    hold = request.app.state.stream_delay(congress_id)
    start = await observer_start(_service(request), request.app.state.observer_history, congress_id,
                                 hold=hold, as_of=as_of)
    return Response(state_text(start, hold), media_type="application/json")


async def command(request: Request) -> Response:
    """POST /api/congresses/{id}/commands/{op}: any op of the command table (docs/api.md)."""
    congress_id = int(request.path_params["congress_id"])
    op = request.path_params["op"]
    try:
        if op not in COMMANDS:
            raise DomainError("unknown_op", f"未知的操作：{op}")
        writes = COMMANDS[op].writes
        await refuse_early(request)
        actor = await _actor(request, writing=writes)
        await spend(request, actor)
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
        await refuse_early(request, UPLOAD_COST)
        actor = await _actor(request, writing=True)
        await spend(request, actor, UPLOAD_COST)  # before the file is read
        content_type = request.headers.get("content-type", "")
        too_large = DomainError("too_large", f"名册文件超过 {MAX_UPLOAD_BYTES // 2**20} MB 的上限，未导入任何数据",
                                params={"limit": f"{MAX_UPLOAD_BYTES // 2**20} MB"})
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 2**16:  # + multipart framing
            raise too_large  # refused before a byte of it is read
        if content_type.startswith("multipart/form-data"):
            form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise DomainError("missing_field", "缺少名册文件（字段 file）")
            if (upload.size or 0) > MAX_UPLOAD_BYTES:
                raise too_large
            data, filename = await upload.read(), upload.filename or "roster.csv"
        else:
            body, filename = bytearray(), request.query_params.get("filename", "roster.csv")
            async for chunk in request.stream():  # a body without Content-Length stops at the limit too
                body += chunk
                if len(body) > MAX_UPLOAD_BYTES:
                    raise too_large
            data = bytes(body)
        if len(data) > MAX_UPLOAD_BYTES:
            raise too_large
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
