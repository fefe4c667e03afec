"""The one websocket endpoint `/ws`: hello + snapshot (or resume), events in seq order, commands.

Protocol: docs/protocol.md. Everything a client receives goes through its connection's bounded
queue, so a reply and the events it caused arrive in the order they happened.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from congress.application.auth import SESSION_COOKIE, actor_for_session, find_session, observer_actor
from congress.application.commands import COMMANDS
from congress.application.connection_access import after_refusal
from congress.application.observer_start import hello_text, observer_start, parse_as_of
from congress.application.ratelimit import MAX_PAUSE_SECONDS, RateLimited, SocketAllowance
from congress.application.service import Service, to_published
from congress.application.watching import WATCH_HEADER, NotAdmitted, WatchSetting
from congress.db.engine import RETRY_AFTER_SECONDS, DatabaseUnavailable, is_outage
from congress.db.models import Congress
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.live.connection import Connection
from congress.live.drain import CLOSE_REASON
from congress.live.frames import RawSocket
from congress.live.hub import CLOSE_POLICY, CLOSE_SERVER_RESTART, encode, may_see
from congress.ops import metrics
from congress.reads.snapshot import build_snapshot, head_seq
from congress.routes.origin import cross_site_reason
from congress.routes.wire import read_json

log = logging.getLogger(__name__)
PROTOCOL_VERSION = 3
MAX_STRIKES = 20  # refusals for flooding or bad frames before the connection is closed
CLOSE_TRY_AGAIN_LATER = 1013  # the database is unreachable, or the person is over their rate budget (RFC 6455 7.4.1: 1013 Try Again Later)
FLUSH_SECONDS = 2.0  # how long a policy close waits for the replies queued before it


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _watch_token(websocket: WebSocket) -> str:
    return websocket.query_params.get("watch") or websocket.headers.get(WATCH_HEADER) or ""


def _known_observer(service: Service, websocket: WebSocket) -> tuple[Actor, int, int] | None:
    """An observer of a congress whose watch setting this process knows, admitted (or refused:
    Refused) on the event loop without a read or a thread hop; None when it must be read.

    A join storm is thousands of observers asking the same question of the same row; each answer
    was a thread hop and an ORM session, and in token mode an argon2 hash (issue 18). Now it is at
    most one HMAC (congress.application.watching)."""
    if websocket.cookies.get(SESSION_COOKIE):
        return None
    congress_id = _int(websocket.query_params.get("congress"))
    setting = service.watch_gate.known(congress_id) if congress_id is not None else None
    if setting is None:
        return None
    head = service.hub.delivered_seq(setting.congress_id)  # the hub follows it (else nothing is known)
    if head is None:
        return None
    _admit(service, websocket, setting)
    return observer_actor(setting.congress_id), setting.congress_id, head


def _admit(service: Service, websocket: WebSocket, setting: WatchSetting) -> None:
    try:
        service.watch_gate.admit(setting, _watch_token(websocket), websocket.client.host if websocket.client else None)
    except NotAdmitted as refusal:
        raise Refused(refusal.close_code, refusal.reason) from None


def _authenticate(service: Service, websocket: WebSocket) -> tuple[Actor, int, int]:
    """Who is connecting, to which congress, and that congress's head seq (runs in a worker thread).

    The head comes from the congress row read here anyway: a separate read cost every connection
    one more thread hop and pool checkout, which showed in profiles of 4,000 observers joining."""
    params = websocket.query_params
    now = service.clock()
    with service.db.read() as session:
        row = find_session(session, websocket.cookies.get(SESSION_COOKIE), now)
        actor = actor_for_session(session, row) if row is not None else None
        if actor is not None:
            _check_origin(websocket)
            congress_id = actor.congress_id or _int(params.get("congress"))
            congress = session.get(Congress, congress_id) if congress_id is not None else None
            if congress is None:
                raise Refused(4404, "no such congress")
            return actor, congress.id, congress.last_seq
        congress_id = _int(params.get("congress"))
        if congress_id is None:
            raise Refused(4404, "no such congress")
        gate = service.watch_gate
        ticket = gate.ticket(congress_id)  # before the read: what it finds may be kept
        congress = session.get(Congress, congress_id)
        if congress is None:
            raise Refused(4404, "no such congress")
        # The one rule for observers (congress.domain.watching.may_watch), as for HTTP reads
        _admit(service, websocket, gate.learn(session, congress, ticket))
        return observer_actor(congress.id), congress.id, congress.last_seq


def _check_origin(websocket: WebSocket) -> None:
    """Cookies ride along cross-site; a signed-in socket must come from our own pages: the Origin's
    scheme (http for ws, https for wss), host and port (congress.routes.origin). Fix: the scheme was not
    compared. No Origin: not a browser (the rehearsal, tests), no cookie theft possible."""
    if cross_site_reason(websocket.scope, is_https=websocket.app.state.settings.is_https) is not None:
        raise Refused(4403, "cross-site connection refused")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _start(service: Service, actor: Actor, congress_id: int, since: int | None, window: int) -> tuple[str, list[str], int]:
    """The first message (encoded) and any events to resume with, read in one transaction."""
    with service.db.read() as session:
        if not service.db.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = head_seq(session, congress_id) or 0
        hello = _hello(actor, congress_id, head)
        if since is not None and 0 <= since <= head and head - since <= window:
            events = service_events(session, congress_id, since, head)
            hello["resumed"] = True
            hello["since"] = since
            metrics.resume("resume")
            return encode(hello), [to_published(e).data for e in events if may_see(actor, e.audience, e.audience_id)], head
        hello["resumed"] = False
        hello["snapshot"] = build_snapshot(session, congress_id, actor)
        metrics.resume("snapshot")
        return encode(hello), [], head


def service_events(session: Any, congress_id: int, after: int, upto: int) -> list[Any]:
    import sqlalchemy as sa

    from congress.db.models import Event

    return list(session.scalars(sa.select(Event).where(Event.congress_id == congress_id, Event.seq > after,
                                                       Event.seq <= upto).order_by(Event.seq)))


def _hello(actor: Actor, congress_id: int, seq: int, **resume: Any) -> dict[str, Any]:
    return {"msg": "hello", "protocol": PROTOCOL_VERSION, "role": actor.role.value, "identity": _identity(actor),
            "congress_id": congress_id, "seq": seq, **resume}


def _identity(actor: Actor) -> dict[str, Any]:
    return {"name": actor.name, "delegate_id": actor.delegate_id, "account_id": actor.account_id,
            "group_id": actor.group_id, "is_group_leader": actor.is_group_leader, "is_voting": actor.is_voting,
            "department_id": actor.department_id}


async def live_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    service: Service = state.service
    settings = state.settings
    await websocket.accept()
    if state.draining:  # this worker is shutting down (congress.live.drain): reconnect, to another one
        await websocket.close(CLOSE_SERVER_RESTART, CLOSE_REASON)
        return
    # A person already over their rate budget (known by their cookie: congress.application.ratelimit) opens no
    # new socket until it refills, refused before any read: a flood that reconnects after every
    # policy close costs no session read, snapshot or presence broadcast.
    try:
        await state.budget.refuse_early(websocket.cookies.get(SESSION_COOKIE), queue=0.0)  # held up to a second
    except RateLimited as refusal:
        await websocket.send_text(encode({**_error("rate_limited", "操作过于频繁，请稍后再连接"),
                                          "retry_after": _wait_hint(refusal.retry_after)}))
        await websocket.close(CLOSE_TRY_AGAIN_LATER, "rate limited")
        return
    try:
        known = _known_observer(service, websocket)
        if known is None:
            known = await anyio.to_thread.run_sync(_authenticate, service, websocket)
        actor, congress_id, head = known
    except Refused as refused:
        await websocket.send_text(encode({"msg": "error", "id": None, "code": "refused", "message": refused.reason}))
        await websocket.close(refused.code, refused.reason)
        return
    except Exception as exc:
        if not is_outage(exc):
            raise
        await _close_unavailable(websocket)
        return

    conn = Connection(actor=actor, congress_id=congress_id, queue_size=settings.send_queue_size,
                      close=lambda code, reason: _close(websocket, conn, code, reason),
                      send_text=websocket.send_text, raw=RawSocket.of(websocket.scope))
    since = _int(websocket.query_params.get("since"))
    as_of = None
    if actor.role is Role.OBSERVER:
        conn.delay_seconds = state.stream_delay(congress_id)
        try:
            as_of = parse_as_of(websocket.query_params.get("as_of"))
        except ValueError:
            await websocket.send_text(encode(_error("bad_request", "as_of 不是有效的时间（ISO 8601 含时区，或 Unix 秒数）")))
            await websocket.close(CLOSE_POLICY, "bad as_of")
            return
    # A client that has missed nothing it may see, or an observer that missed only recent public
    # events (a reconnect storm after a network blip), is answered by the hub without a read. From
    # its registration on, every later event reaches it through the hub, with no await in between.
    # Only if the hub already follows this congress: a first connection's head may be older than
    # an event published before anyone here listened.
    # Observers start from the held history instead (congress.application.observer_start): never younger than the hold.
    from_hub = None if since is None or actor.role is Role.OBSERVER else service.hub.resume(congress_id, since, False)
    # Register before reading, so an event committed while we read is queued, not lost.
    service.hub.register(conn, head)
    metrics.connection_opened(actor.role.value)  # closed in the `finally` below, whatever happens
    try:
        if actor.role is Role.OBSERVER:
            # 4,000 observers joining together share one snapshot string from the history, no read each
            start = await observer_start(service, state.observer_history, congress_id, hold=conn.delay_seconds,
                                         since=since, as_of=as_of, window=settings.resume_window)
            resumed = {"resumed": True, "since": since} if start.snapshot is None else {"resumed": False}
            metrics.resume("resume" if start.snapshot is None else "snapshot")
            hello = hello_text(start, _hello(actor, congress_id, start.seq, **resumed), conn.delay_seconds)
            backlog, head = [e.data for e in start.events], start.last
            conn.after_seq = head
            service.hub.hold_for(conn, start.later)
        elif from_hub is not None:
            head, backlog = from_hub
            metrics.resume("resume_memory")
            hello = encode(_hello(actor, congress_id, head, resumed=True, since=since))
        else:
            hello, backlog, head = await anyio.to_thread.run_sync(
                _start, service, actor, congress_id, since, settings.resume_window)
        conn.after_seq = head
        await websocket.send_text(hello)
        for data in backlog:
            await websocket.send_text(data)
        # The snapshot is the client's now. This frame lives as long as the connection, and kept
        # it (several KB per observer) until the client left.
        del hello, backlog
        conn.start()
        state.presence_changed(congress_id)
        if actor.role is not Role.OBSERVER:
            state.progress_wanted(congress_id)  # the open votes' progress within a tick, not at the next ballot
        await _receive_loop(websocket, service, conn, settings)
    except WebSocketDisconnect:
        pass
    except Exception as exc:
        if not is_outage(exc):
            raise
        await _close_unavailable(websocket)
    finally:
        conn.stop()
        service.hub.unregister(conn)
        state.presence_changed(congress_id)
        metrics.connection_closed(actor.role.value)


async def _close_unavailable(websocket: WebSocket) -> None:
    """The database is unreachable: an `unavailable` error, then close 1013 (Try Again Later) with a
    reason. Fix: the socket was dropped without a close frame and a traceback was logged."""
    log.warning("websocket refused: the database is unreachable")
    error = DatabaseUnavailable()
    try:
        await websocket.send_text(encode({"msg": "error", "id": None, **error.reply(), "retry_after": RETRY_AFTER_SECONDS}))
        await websocket.close(CLOSE_TRY_AGAIN_LATER, "database unavailable, try again later")
    except Exception:  # the client has gone meanwhile
        pass


async def _close(websocket: WebSocket, conn: Connection, code: int, reason: str) -> None:
    if conn.is_closing:
        return
    if conn.cork:
        conn.uncork()  # what was offered before the close goes out before it
    conn.is_closing = True
    try:
        await websocket.close(code, reason)
    except Exception:  # already gone
        pass


async def _close_after_replies(conn: Connection, code: int, reason: str) -> None:
    """Close once the errors already offered (rate_limited, bad_json, ...) have gone out.

    The receive loop can refuse a whole burst of buffered frames without yielding, so closing at
    once used to drop every queued reply: a flooding client saw a bare 1008 and no reason. A peer
    that does not read gets FLUSH_SECONDS, then is closed anyway.
    """
    await conn.flush(FLUSH_SECONDS)
    await conn.close(code, reason)


async def _receive_loop(websocket: WebSocket, service: Service, conn: Connection, settings: Any) -> None:
    # One rate budget per person, shared with their other sockets and their HTTP requests
    # (congress.application.ratelimit); staff (the check-in desk) go faster. `ping` spends none of it.
    bucket = SocketAllowance(websocket.app.state.budget, conn.actor, websocket.client.host if websocket.client else None)
    websocket.app.state.budget.remember(websocket.cookies.get(SESSION_COOKIE), conn.actor)
    strikes = 0
    pending: set[asyncio.Task[None]] = set()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        if len(text.encode()) > settings.max_frame_bytes:
            await _close_after_replies(conn, 1009, "frame too large")
            return
        command, refusal = _parse(text, bucket)
        if refusal is not None or command is None:
            strikes += 1
            conn.offer(0, encode(refusal or {}))
            if strikes >= MAX_STRIKES:
                await _close_after_replies(conn, CLOSE_POLICY, "too many bad or excessive messages")
                return
            if refusal is not None and refusal.get("code") == "rate_limited":
                # The next frame is read no sooner than it may be allowed, later with each strike (up
                # to a second): ten sockets of one flooder woke together and were refused together
                # (bench/flood.py). Not reading is TCP backpressure: a timer, not a refusal per frame.
                await asyncio.sleep(min(bucket.retry_after * strikes, MAX_PAUSE_SECONDS))
            continue
        if command.get("op") == "ping":
            conn.offer(0, encode({"msg": "pong", "id": command.get("id")}))
            continue
        drain = websocket.app.state.drain
        if drain.draining:
            continue  # not started: no reply, so the client resends it with the same id after reconnecting
        task = asyncio.get_running_loop().create_task(_run_command(service, conn, command))
        pending.add(task)
        task.add_done_callback(pending.discard)
        drain.track(task)  # the drain waits for it: committed and acknowledged before the close


def _wait_hint(seconds: float) -> float:
    """A refusal's wait in milliseconds, rounded up: never 0 for a command that was refused
    (rounding 0.0003 s down told the client it could resend at once)."""
    return math.ceil(seconds * 1000) / 1000


def _error(code: str, message: str) -> dict[str, Any]:
    return {"msg": "error", "id": None, "code": code, "message": message}


def _parse(text: str, bucket: SocketAllowance) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The command to run, or the error message for a frame we will not run."""
    try:
        command = read_json(text)  # nesting bounded: 30,000 brackets were a traceback per frame
    except DomainError as refused:
        return None, _error(refused.code, "消息不是有效的 JSON" if refused.code == "bad_json" else refused.message)
    if not isinstance(command, dict) or not isinstance(command.get("op"), str):
        return None, _error("bad_request", "命令必须是带 op 字段的 JSON 对象")
    command_id = command.get("id")
    # Required (docs/protocol.md): a command without one was applied, and could not be told from
    # its resend after a lost ack.
    if not isinstance(command_id, str) or not 0 < len(command_id) <= 64:
        return None, _error("bad_request", "每条命令都要有 id：1–64 个字符的文本")
    if not bucket.take(command["op"]):
        return None, {**_error("rate_limited", "操作过于频繁，请稍后再试"), "id": command_id,
                      "retry_after": _wait_hint(bucket.retry_after)}
    return command, None


async def _run_command(service: Service, conn: Connection, command: dict[str, Any]) -> None:
    op, command_id = command.pop("op"), command.pop("id", None)
    try:
        table_entry = COMMANDS.get(op)
        if conn.actor.role is Role.OBSERVER and table_entry is not None and table_entry.writes:
            # Observers hold no permission at all (permissions.GRANTS). Refused here, before the
            # one writer's queue: thousands of watchers must not be able to fill it with write
            # transactions that can only fail. The action would refuse with the same error.
            raise DomainError("read_only", "观众（云听会）只能观看，不能进行任何操作")
        result = await service.run(conn.actor, op, conn.congress_id, command, command_id)
        conn.offer(0, encode({"msg": "ack", "id": command_id, "op": op, "result": result}))
    except DomainError as error:
        retry = {"retry_after": RETRY_AFTER_SECONDS} if error.code == "unavailable" else {}
        conn.offer(0, encode({"msg": "error", "id": command_id, "op": op, **error.reply(), **retry}))
        after_refusal(conn, error.code)  # session_ended / access_changed: the socket is closed too
    except Exception:
        log.exception("command %s", op)
        conn.offer(0, encode({"msg": "error", "id": command_id, "op": op, "code": "internal_error",
                                   "message": "服务器内部错误，操作未执行"}))
