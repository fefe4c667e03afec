"""Who may read /metrics: a pure rule (docs/deploy.md, "Restricting /metrics").

Allowed: (a) a request made straight to the worker from this host — a loopback peer and no proxy
header (X-Forwarded-For, X-Real-IP, Forwarded): a Prometheus or curl on the host; or (b) any request
with `Authorization: Bearer <CONGRESS_METRICS_TOKEN>` (compared in constant time). Anything else is
refused with 403 and the reason. 403 rather than 404: the endpoint is documented and no secret, and
an operator whose scrape fails should read why (no token, a wrong token, came through nginx).

Through nginx every request carries X-Forwarded-For (deploy/nginx.conf sets it), so a request
from the internet that reaches a worker on 127.0.0.1 still does not count as local.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scrape_refusal(peer: str | None, headers: Mapping[str, str], token: str | None) -> str | None:
    """Why this request may not read the metrics, or None if it may. `headers`: lower-case names."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, given = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return "Authorization must be 'Bearer <token>'"
        if not token:
            return "no metrics token is set on this server (CONGRESS_METRICS_TOKEN): only local requests are served"
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return "wrong metrics token"
        return None
    if any(name in headers for name in PROXY_HEADERS):
        return "came through a proxy: send Authorization: Bearer <CONGRESS_METRICS_TOKEN>"
    if not is_loopback(peer):
        return "not from this host: send Authorization: Bearer <CONGRESS_METRICS_TOKEN>"
    return None
