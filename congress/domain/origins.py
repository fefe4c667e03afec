"""Web origins that go into the Content-Security-Policy header: where a congress's stream comes from
(its pages may load it) and which other sites may show its watch page and big screen in a frame.

Whatever staff type ends up inside a response header, so only a strict `scheme://host[:port]` is
ever let through: nothing that could end a directive (`;`), add a source (a space, `*`, a quote) or
name a path.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from congress.domain.errors import DomainError

MAX_EMBED_ORIGINS = 10
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str | None) -> str | None:
    """`https://live.example.cn:8443` for an absolute http(s) address, None for a path on this
    server ("/live/x.m3u8") or anything that is not a clean origin (user info, odd characters)."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address, which urlsplit gives without its brackets
        host = f"[{host}]"
    if "@" in parts.netloc or not _HOST.match(host):
        return None
    scheme = parts.scheme.lower()
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def parse_embed_origins(values: list[object]) -> tuple[str, ...]:
    """The sites staff allow to embed the watch page and the big screen, normalised and deduplicated.

    Each must be exactly an origin, as the browser's address bar shows the embedding site without
    its path: `https://portal.example.cn` (a trailing slash is dropped). An empty list: nobody.
    """
    origins: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise DomainError("bad_field", "嵌入网站应为文本，例如 https://portal.example.cn",
                              params={"field": "origins"})
        text = value.strip()
        if not text:
            continue
        bare = text[:-1] if text.endswith("/") else text
        origin = origin_of(bare)
        if origin is None or bare.lower() != _as_typed(origin, bare):
            raise DomainError("bad_field", f"嵌入网站应写成 https://域名（可带 :端口），不含路径、通配符或参数：{text[:100]}",
                              params={"field": "origins"})
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise DomainError("bad_field", f"最多允许 {MAX_EMBED_ORIGINS} 个嵌入网站", params={"field": "origins"})
    return tuple(origins)


def _as_typed(origin: str, typed: str) -> str:
    """The origin as staff may have typed it (with the default port written out), to compare."""
    scheme = origin.split(":", 1)[0]
    with_port = f"{origin}:{_DEFAULT_PORTS[scheme]}"
    return with_port if typed.lower() == with_port else origin
