"""Real receivers for the notices: an SMTP sink (aiosmtpd) and an HTTP server that plays the group
robots of 企业微信, 钉钉 and 飞书, checking each payload's documented shape and signature. Both run
on 127.0.0.1 in the test process; nothing is mocked."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.story import build_story

SECRET = "SECtest-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """What the SMTP sink accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def subjects(self, to: str | None = None) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages if to is None or str(m["To"]) == to]


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CONGRESS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CONGRESS_SMTP_PORT", str(port))
    monkeypatch.setenv("CONGRESS_SMTP_SECURITY", "none")
    monkeypatch.setenv("CONGRESS_SMTP_FROM", "union@example.cn")
    monkeypatch.setenv("CONGRESS_PUBLIC_URL", "https://congress.example.cn")
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    problems: list[str]  # how the payload differs from the platform's documented shape


@dataclass
class Robots:
    """A local HTTP server answering as the robots do. Paths: /wecom/…, /dingtalk/…, /feishu/…;
    a path ending in /refuse answers 200 with a non-zero code, /broken answers 500, /slow answers
    success a second after it has recorded the request."""

    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, prefix: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith(prefix)]

    def texts(self, prefix: str) -> list[str]:
        return [_text_of(r) for r in self.on(prefix)]


def _text_of(r: Received) -> str:
    if "markdown" in r.body:
        return str(r.body["markdown"].get("content") or r.body["markdown"].get("text"))
    return str(r.body.get("content", {}).get("text"))


def check_shape(path: str, query: dict[str, str], body: dict[str, Any], now: datetime | None = None) -> list[str]:
    problems = []
    if path.startswith("/wecom"):
        if body.get("msgtype") != "markdown" or not isinstance(body.get("markdown", {}).get("content"), str):
            problems.append("wecom: msgtype markdown with markdown.content expected")
    elif path.startswith("/dingtalk"):
        md = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not isinstance(md.get("title"), str) or not isinstance(md.get("text"), str):
            problems.append("dingtalk: msgtype markdown with markdown.title and markdown.text expected")
        if "signed" in path:
            ts = query.get("timestamp", "")
            want = base64.b64encode(hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()).decode()
            if not ts.isdigit() or len(ts) != 13 or query.get("sign") != want:
                problems.append("dingtalk: bad timestamp/sign")
    elif path.startswith("/feishu"):
        if body.get("msg_type") != "text" or not isinstance(body.get("content", {}).get("text"), str):
            problems.append("feishu: msg_type text with content.text expected")
        if "signed" in path:
            ts = str(body.get("timestamp", ""))
            want = base64.b64encode(hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
            if not ts.isdigit() or len(ts) != 10 or body.get("sign") != want:
                problems.append("feishu: bad timestamp/sign")
    return problems


@pytest.fixture
def robots() -> Iterator[Robots]:
    port = free_port()
    state = Robots(port)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            with state.lock:
                state.received.append(Received(parsed.path, query, body, check_shape(parsed.path, query, body)))
            if parsed.path.endswith("/slow"):  # received at once, answered a second later
                time.sleep(1)
            if parsed.path.endswith("/broken"):
                self._answer(500, {"error": "boom"})
            elif parsed.path.endswith("/refuse"):
                self._answer(200, {"code": 19021, "msg": "sign match fail"} if parsed.path.startswith("/feishu")
                             else {"errcode": 93000, "errmsg": "invalid webhook url"})
            elif parsed.path.startswith("/feishu"):
                self._answer(200, {"code": 0, "msg": "success", "data": {}, "StatusCode": 0})
            else:
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class SetClock:
    """The sender's "now", set by the test: days pass without sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def advance(self, **delta: float) -> None:
        with self.lock:
            self.now += timedelta(**delta)


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    return build_story(db, with_codes=False)
