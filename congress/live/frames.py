"""Writing one broadcast to thousands of sockets: a websocket frame built once, written to each.

uvicorn's send path (Starlette's send_text, the ASGI send, the sans-I/O protocol) encodes the text,
builds the frame and writes it, once per connection: for 4,000 observers, 4,000 times the same
work. A server-to-client text frame is unmasked and, without compression, is the same bytes for
every connection, so it is built once per message (`text_frame`) and written straight to each
connection's transport (`RawSocket.write`).

Only where that is exactly what uvicorn would write: its websockets-sansio protocol, after the
handshake, no extension negotiated (we serve without permessage-deflate), no close sent, the peer
still there, and its transport not paused by flow control. Anything else (a full socket buffer, a
closing connection, another server) takes the ordinary send path, which waits as it should.
asyncio writes each call's bytes whole and in call order, so raw frames and uvicorn's own frames
(hello, replies, pings, close) never interleave.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from websockets.protocol import State

SCOPE_KEY = "congress.ws_protocol"


def text_frame(data: str) -> bytes:
    """An unfragmented, unmasked text frame (RFC 6455 §5.2) carrying `data`."""
    payload = data.encode()
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


class RawSocket:
    """uvicorn's protocol object for one websocket, and the checks before writing to it directly."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    @classmethod
    def of(cls, scope: MutableMapping[str, Any]) -> RawSocket | None:
        protocol = scope.get(SCOPE_KEY)
        needed = ("transport", "conn", "writable", "close_sent", "handshake_complete", "disconnected")
        if protocol is None or not all(hasattr(protocol, name) for name in needed):
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write the frame now if that is safe; False means: use the ordinary send path."""
        p = self.protocol
        if (p.close_sent or p.disconnected or not p.handshake_complete or not p.writable.is_set()
                or p.conn.extensions or p.conn.state is not State.OPEN or p.transport.is_closing()):
            return False
        p.transport.write(frame)
        return True


ASGIApp = Callable[[MutableMapping[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[None]]],
                   Awaitable[None]]


class ExposeWebsocketProtocol:
    """Outermost ASGI layer: puts the server's protocol object into a websocket's scope.

    uvicorn passes its protocol's bound `asgi_send`; the layers inside (Starlette's exception
    handling) wrap it, so only here can the endpoint's RawSocket find the protocol.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[..., Awaitable[Any]],
                       send: Callable[..., Awaitable[None]]) -> None:
        if scope["type"] == "websocket":
            protocol = getattr(send, "__self__", None)
            if protocol is not None and type(protocol).__name__ == "WebSocketsSansIOProtocol":
                scope[SCOPE_KEY] = protocol
        await self.app(scope, receive, send)
