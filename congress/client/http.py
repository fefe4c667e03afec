"""The few HTTP calls of a rehearsal, over the standard library (blocking: run them in a thread).

`StaffHttp` signs in as staff and carries the session cookie and CSRF token. `guard` is the
rehearsal's safety catch: before every staff step the congress is read back and the step refuses
to run unless the congress's own snapshot says ``is_rehearsal: true``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

SESSION_COOKIE = "congress_session"
UNAVAILABLE_ATTEMPTS = 8  # a 503 `unavailable` is asked again, after its retry_after, this many times in all


class NotARehearsal(RuntimeError):
    """Raised before touching a congress that is not marked as a rehearsal."""


class HttpFailure(RuntimeError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status, self.code, self.body = status, error.get("code", f"http_{status}"), body
        super().__init__(f"{what}: HTTP {status} {error.get('code', '')} {error.get('message', body)}".strip())


def ws_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urllib.parse.urlunsplit((scheme, parts.netloc, "/ws", "", ""))


def request(base_url: str, method: str, path: str, *, body: Any = None, data: bytes | None = None,
            content_type: str = "application/json", cookie: str | None = None, csrf: str | None = None,
            timeout: float = 120.0) -> tuple[int, Any, dict[str, str]]:
    """One request; returns (status, parsed JSON or text, headers). Never raises on HTTP status."""
    payload = data if data is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None
                                             else None)
    req = urllib.request.Request(base_url.rstrip("/") + path, data=payload, method=method)
    if payload is not None:
        req.add_header("Content-Type", content_type)
    if cookie:
        req.add_header("Cookie", f"{SESSION_COOKIE}={cookie}")
    if csrf:
        req.add_header("X-CSRF-Token", csrf)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, headers = error.code, error.read(), error.headers
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    cookies = {}
    for header in headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        cookies.update({k: m.value for k, m in jar.items()})
    return status, parsed, cookies


@dataclass
class SignedIn:
    base_url: str
    cookie: str
    csrf: str
    role: str
    congress_id: int | None


def sign_in(base_url: str, body: dict[str, Any], timeout: float = 120.0) -> SignedIn:
    status, parsed, cookies = request(base_url, "POST", "/api/sign-in", body=body, timeout=timeout)
    if status != 200 or SESSION_COOKIE not in cookies:
        raise HttpFailure(status, parsed, "登录失败")
    return SignedIn(base_url, cookies[SESSION_COOKIE], parsed["csrf_token"], parsed["role"], parsed.get("congress_id"))


class StaffHttp:
    """Staff over HTTP: create the congress, import the roster, issue codes, read state."""

    def __init__(self, base_url: str, login: str, password: str) -> None:
        self.base_url = base_url
        self.session = sign_in(base_url, {"login": login, "password": password})
        if self.session.role != "staff":
            raise HttpFailure(403, {"error": {"code": "forbidden", "message": f"{login} 不是工作人员账号"}}, "登录")

    def _call(self, method: str, path: str, what: str, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        for _attempt in range(UNAVAILABLE_ATTEMPTS):
            status, parsed, _ = request(self.base_url, method, path, cookie=self.session.cookie,
                                        csrf=self.session.csrf, **kwargs)
            if status != 503:
                break
            # the database away for a moment (a fault rehearsed, a restart): nothing was done, try again
            time.sleep(_retry_after(parsed))
        if status not in ok:
            raise HttpFailure(status, parsed, what)
        return parsed

    def create_congress(self, name: str, groups: list[str]) -> dict[str, Any]:
        result = self._call("POST", "/api/congresses", "创建职代会",
                            body={"name": name, "groups": groups, "is_rehearsal": True})["result"]
        if result.get("is_rehearsal") is not True:
            raise NotARehearsal(f"服务器创建的职代会 {result.get('id')} 未标记为演练（is_rehearsal），演练中止")
        return result

    def state(self, congress_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/congresses/{congress_id}/state", "读取职代会状态")

    def guard(self, congress_id: int, attempts: int = 3) -> dict[str, Any]:
        """The congress's snapshot, read now; raises NotARehearsal unless it is a rehearsal.
        (A busy server gets a few tries: a slow answer is not a reason to give up the rehearsal.)"""
        for attempt in range(attempts):
            try:
                state = self.state(congress_id)
                break
            except OSError:
                if attempt == attempts - 1:
                    raise
        check_rehearsal(state.get("snapshot"), congress_id)
        return state

    def import_roster(self, congress_id: int, data: bytes) -> dict[str, Any]:
        self.guard(congress_id)
        return self._call("POST", f"/api/congresses/{congress_id}/roster?filename=rehearsal-roster.csv",
                          "导入名册", data=data, content_type="text/csv; charset=utf-8")["result"]

    def issue_codes(self, congress_id: int) -> list[dict[str, Any]]:
        self.guard(congress_id)
        return self._call("POST", f"/api/congresses/{congress_id}/codes", "生成访问码", body={})["result"]["codes"]

    def command(self, congress_id: int, op: str, **args: Any) -> Any:
        self.guard(congress_id)
        return self._call("POST", f"/api/congresses/{congress_id}/commands/{op}", op, body=args)["result"]


def _retry_after(parsed: Any) -> float:
    error = parsed.get("error", {}) if isinstance(parsed, dict) else {}
    try:
        return min(10.0, max(0.5, float(error.get("retry_after") or 2)))
    except (TypeError, ValueError):
        return 2.0


def check_rehearsal(snapshot: Any, congress_id: int) -> None:
    congress = (snapshot or {}).get("congress") or {}
    if congress.get("id") != congress_id or congress.get("is_rehearsal") is not True:
        raise NotARehearsal(f"职代会 {congress_id} 不是演练（快照中 is_rehearsal 不为 true）：演练不会操作它")
