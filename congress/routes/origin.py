"""Requests from our own pages only: the Origin and Sec-Fetch-Site checks, for HTTP and the websocket.

The CSRF token is the main defence; this is the second one (OWASP: verify the origin with standard
headers). Found in issue 18: a state-changing request with a valid token but `Origin:
http://evil.example` was applied, and the websocket's check compared host and port but not the
scheme (an `http://` page could open a socket meant for the `https://` site's cookie).

Our own origin is the scheme the request came in with and its Host header. The scheme is what
uvicorn saw: it honours X-Forwarded-Proto only from the proxies it trusts (`--forwarded-allow-ips`,
127.0.0.1 by default: nginx on the same machine, deploy/nginx.conf); with CONGRESS_HTTPS=1 the site
is HTTPS whatever the last hop says. A client that sends neither Origin nor Sec-Fetch-Site is not a
browser (scripts, the rehearsal): it carries no victim's cookie, and still needs the CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}

Origin = tuple[str, str, int]  # scheme (http/https), host (lower case), port


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def parse_origin(text: str) -> Origin | None:
    """`scheme://host[:port]` as browsers send it; None for `null` or anything malformed."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = _HTTP_SCHEME.get(parts.scheme.lower())
    if scheme is None or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def own_origin(scope: Scope, *, is_https: bool = False) -> Origin | None:
    """The origin this request was made to (ws/wss count as http/https)."""
    scheme = "https" if is_https else _HTTP_SCHEME.get(scope.get("scheme", "http"), "http")
    host = _header(scope, b"host")
    if not host:
        return None
    return parse_origin(f"{scheme}://{host}")


def cross_site_reason(scope: Scope, *, is_https: bool = False) -> str | None:
    """Why a browser request comes from another site (in English, for logs and close reasons); None if not."""
    if (_header(scope, b"sec-fetch-site") or "").strip().lower() == "cross-site":
        return "cross-site request (Sec-Fetch-Site)"
    origin = _header(scope, b"origin")
    if origin is None:
        return None
    if parse_origin(origin) is None or parse_origin(origin) != own_origin(scope, is_https=is_https):
        return "cross-site request (Origin)"
    return None


class RefuseCrossSite:
    """Every state-changing HTTP request (any method but GET, HEAD, OPTIONS), in one place: sign-in
    and sign-out, commands, uploads, the roster, documents — 403 `cross_site` before any route runs."""

    def __init__(self, app: ASGIApp, *, is_https: bool = False) -> None:
        self.app = app
        self.is_https = is_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            if cross_site_reason(scope, is_https=self.is_https) is not None:
                response = JSONResponse({"error": {"code": "cross_site",
                                                   "message": "请求来自其他网站，已拒绝：请在本系统的页面上操作"}},
                                        status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
