"""Who may watch a congress without signing in (云听会): the one rule for observers, used by the
websocket and by every HTTP read an anonymous visitor can reach, and what a watch token must be;
and who may see which event once in (`may_see`, for every role).

Signed-in people (staff, delegates, departments) are not observers and are not asked.
"""

from __future__ import annotations

from enum import Enum, StrEnum

from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role


class WatchMode(StrEnum):
    """How staff let observers in (the congress's watch_mode column)."""

    OPEN = "open"  # anyone with the congress's address
    TOKEN = "token"  # only with the watch link's secret (the watch token)
    OFF = "off"  # nobody without signing in


# The token is a link secret, not something people type or remember: the server makes it
# (secrets.token_urlsafe(18): 24 URL-safe characters, 144 bits), so a guess cannot succeed and
# checking one can be cheap (an HMAC). A token staff choose must at least be as long.
WATCH_TOKEN_MIN_CHARS = 16
WATCH_TOKEN_MAX_CHARS = 128
URL_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class WatchRefusal(Enum):
    """Why an anonymous visitor may not watch; `code` is what the HTTP API and the close reason say."""

    WATCHING_OFF = ("watching_off", "本次职代会已关闭观看（云听会），请登录后查看")
    WATCH_TOKEN_REQUIRED = ("watch_token_required", "观看本次职代会需要工作人员提供的观看链接（观看口令无效或缺失）")
    # Token mode, but no link this server can check: one made before links were HMAC-signed
    # (an argon2 hash from an older version) or none at all. Only staff can fix it.
    WATCH_LINK_NOT_ISSUED = ("watch_link_not_issued", "观看链接已失效，请联系工作人员在“云听会观看链接”中重新生成")

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


def may_watch(mode: WatchMode, *, token_ok: bool, link_issued: bool = True) -> WatchRefusal | None:
    """None when an anonymous visitor may watch; else why not.

    token_ok: the visitor presented the congress's current watch token (only asked in TOKEN mode).
    link_issued: a watch token this server can check is stored (only matters in TOKEN mode).
    """
    if mode is WatchMode.OPEN:
        return None
    if mode is WatchMode.OFF:
        return WatchRefusal.WATCHING_OFF
    if not link_issued:
        return WatchRefusal.WATCH_LINK_NOT_ISSUED
    return None if token_ok else WatchRefusal.WATCH_TOKEN_REQUIRED


def may_see(role: Role, audience: str, audience_id: int | None, *,
             group_id: int | None = None, delegate_id: int | None = None) -> bool:
    """The one audience rule (live delivery, resume and snapshots alike): public events are everyone's,
    staff see all; a group's events are its delegates', a delegate's their own; observers and
    departments see only public events."""
    if audience == Audience.PUBLIC:
        return True
    if role is Role.STAFF:
        return True
    if audience == Audience.GROUP:
        return role is Role.DELEGATE and group_id == audience_id
    if audience == Audience.DELEGATE:
        return role is Role.DELEGATE and delegate_id == audience_id
    if audience == Audience.DELEGATES:
        return role is Role.DELEGATE
    return False


def check_chosen_watch_token(token: str) -> str:
    """A token staff typed themselves: long enough to be a link secret, and plain enough to travel
    in a link and a header. Returns it stripped."""
    token = token.strip()
    if len(token) < WATCH_TOKEN_MIN_CHARS:
        raise DomainError("bad_field", f"观看口令至少 {WATCH_TOKEN_MIN_CHARS} 个字符（现有 {len(token)} 个）；"
                                       "不填写则由系统生成一个安全的观看链接", params={"field": "token"})
    if len(token) > WATCH_TOKEN_MAX_CHARS:
        raise DomainError("bad_field", f"观看口令最多 {WATCH_TOKEN_MAX_CHARS} 个字符（现有 {len(token)} 个）",
                          params={"field": "token"})
    # It travels in a link (?watch=) and in a header (X-Watch-Token): URL-unreserved ASCII only
    odd = sorted({c for c in token if c not in URL_UNRESERVED})
    if odd:
        raise DomainError("bad_field", f"观看口令只能使用英文字母、数字和 - _ . ~（不能有：{' '.join(odd[:5])}）",
                          params={"field": "token"})
    return token


def watch_path(congress_id: int, token: str | None) -> str:
    from urllib.parse import urlencode

    query = {"congress": congress_id, **({"watch": token} if token else {})}
    return f"/watch?{urlencode(query)}"
