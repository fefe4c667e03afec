"""Setting up a congress: create it with its groups, its rules, check-in window, stream and watch link."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Congress, Group, Term
from congress.db.secrets import HMAC_PREFIX, new_watch_token, secret_key, watch_token_digest
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.origins import origin_of
from congress.domain.permissions import Permission
from congress.domain.rules import CongressRules
from congress.domain.terms import parse_congress_name
from congress.domain.watching import WatchMode, check_chosen_watch_token, watch_path


def create_congress(ctx: Context, name: str, group_names: list[str], *, is_rehearsal: bool = False,
                    term: Term | None = None, session_number: int | None = None) -> Congress:
    """A new congress with its groups; without `term` it opens a term of its own, read from its name
    (第十届…第三次: term 第十届…, session 3; congress.domain.terms)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    name = name.strip()
    names = [g.strip() for g in group_names if g.strip()]
    if not name:
        raise DomainError("bad_field", "职代会名称不能为空", params={"field": "name"})
    if not names:
        raise DomainError("bad_field", "至少需要一个代表团(组)", params={"field": "groups"})
    duplicates = sorted({g for g in names if names.count(g) > 1})
    if duplicates:
        raise DomainError("bad_field", f"代表团(组)名称重复：{'、'.join(duplicates)}", params={"field": "groups"})
    if term is None:
        parsed = parse_congress_name(name)
        term = Term(name=parsed.term_name, number=parsed.term_number, created_at=ctx.now)
        ctx.session.add(term)
        ctx.session.flush()
        session_number = session_number or parsed.session_number
    congress = Congress(name=name, is_rehearsal=is_rehearsal, rules=CongressRules().to_json(),
                        created_at=ctx.now, term_id=term.id, session_number=session_number or 1)
    ctx.session.add(congress)
    ctx.session.flush()
    for position, group_name in enumerate(names):
        ctx.session.add(Group(congress_id=congress.id, name=group_name, position=position))
    ctx.session.flush()
    ctx.emit(congress.id, "congress.created", {"name": name, "groups": names, "is_rehearsal": is_rehearsal})
    return congress


def add_groups(ctx: Context, congress_id: int, names: list[str]) -> list[Group]:
    """The groups of `names` the congress does not have yet, after its others, told with `groups.added`.
    The caller has checked the permission (a roster import that makes its new groups)."""
    existing = set(ctx.session.scalars(sa.select(Group.name).where(Group.congress_id == congress_id)))
    position = len(existing)
    added = []
    for name in names:
        if name in existing:
            continue
        group = Group(congress_id=congress_id, name=name, position=position)
        position += 1
        ctx.session.add(group)
        added.append(group)
    ctx.session.flush()
    if added:
        ctx.emit(congress_id, "groups.added", {"groups": [{"id": g.id, "name": g.name} for g in added]})
    return added


def _parse_time(value: str | None, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise DomainError("bad_field", f"{field} 不是有效的时间（ISO 8601，例如 2026-12-01T08:30:00+08:00）",
                          params={"field": field}) from exc
    if parsed.tzinfo is None:
        raise DomainError("bad_field", f"{field} 需要带时区，例如 +08:00", params={"field": field})
    # as stored and as every snapshot says it: the event then tells the page what a reload would
    return parsed.astimezone(UTC)


def set_rules(ctx: Context, congress_id: int, rules: dict[str, Any]) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    merged = CongressRules.from_json({**congress.rules, **rules})  # validates every field
    congress.rules = merged.to_json()
    ctx.emit(congress_id, "congress.rules_changed", {"rules": congress.rules})
    return {"rules": congress.rules}


def set_check_in_window(ctx: Context, congress_id: int, opens_at: str | None = None,
                        closes_at: str | None = None) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    opens, closes, payload = _window(opens_at, closes_at, "签到截止时间必须晚于开始时间")
    congress.check_in_opens_at, congress.check_in_closes_at = opens, closes
    ctx.emit(congress_id, "check_in.window_set", payload)
    return payload


def _window(opens_at: str | None, closes_at: str | None,
            out_of_order: str) -> tuple[datetime | None, datetime | None, dict[str, str | None]]:
    """A window's two ends (either may be open), refused with `out_of_order` unless it closes after it
    opens, and the payload of its event."""
    opens, closes = _parse_time(opens_at, "opens_at"), _parse_time(closes_at, "closes_at")
    if opens and closes and closes <= opens:
        raise DomainError("bad_field", out_of_order, params={"field": "closes_at"})
    return opens, closes, {"opens_at": opens.isoformat() if opens else None,
                           "closes_at": closes.isoformat() if closes else None}


def set_filing_window(ctx: Context, congress_id: int, opens_at: str | None = None,
                      closes_at: str | None = None) -> dict[str, Any]:
    """提案征集: when delegates may submit proposals. Either end may be left open; after the close a
    proposal becomes a 平时提案 or is refused, by the rule `late_proposals` (actions/proposals.py)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    opens, closes, payload = _window(opens_at, closes_at, "closes_at（提案征集截止时间）必须晚于 opens_at（开始时间）")
    congress.filing_opens_at, congress.filing_closes_at = opens, closes
    ctx.emit(congress_id, "proposals.filing_window_set", payload)
    return payload


STREAM_KINDS = ("none", "hls", "embed")


def set_stream(ctx: Context, congress_id: int, kind: str, url: str | None = None,
               delay_seconds: int = 0) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    if kind not in STREAM_KINDS:
        raise DomainError("bad_field", "直播类型应为 none / hls / embed", params={"field": "kind"})
    warning = _check_stream_url(url, is_https=ctx.is_https) if kind != "none" else None
    if not 0 <= delay_seconds <= 120:
        raise DomainError("bad_field", "直播延迟应在 0–120 秒之间", params={"field": "delay_seconds"})
    congress.stream_kind, congress.stream_url = kind, (url if kind != "none" else None)
    congress.stream_delay_seconds = delay_seconds
    payload = {"kind": kind, "url": congress.stream_url, "delay_seconds": delay_seconds}
    ctx.emit(congress_id, "stream.set", payload)
    return {**payload, "warning": warning} if warning else payload


def _check_stream_url(url: str | None, *, is_https: bool) -> str | None:
    """A page served over HTTPS may not load an http:// picture (browsers block mixed content), so
    behind HTTPS the address must be https:// or a path on this server; on a plain-HTTP site an
    http:// address plays, and staff are warned that it stops when the site moves to HTTPS.
    The pages' Content-Security-Policy names the stream's host by its origin (routes/headers.py), so
    the host must be a clean one, and `//host/…` (another host, not a path here) is refused."""
    url = url or ""
    if url.startswith("//") or (url.lower().startswith(("https://", "http://")) and origin_of(url) is None):
        raise DomainError("bad_field", "直播地址应为完整的 https://主机名/路径（主机名只含字母、数字、点和横线，"
                                       "可带 :端口，不含用户名、空格或分号），或本站的 /… 地址", params={"field": "url"})
    if is_https:
        if not url.startswith(("https://", "/")):
            raise DomainError("bad_field", "本站使用 HTTPS，直播地址应以 https:// 开头（或为本站的 /… 地址）："
                                           "浏览器会拦截 http:// 的画面", params={"field": "url"})
        return None
    if not url.startswith(("https://", "http://", "/")):
        raise DomainError("bad_field", "直播地址应以 https:// 或 http:// 开头（或为本站的 /… 地址）", params={"field": "url"})
    if url.startswith("http://"):
        return "直播地址是 http://：本站改用 HTTPS 后浏览器会拦截它，建议使用 https:// 地址"
    return None


def set_watch(ctx: Context, congress_id: int, mode: str, token: str | None = None,
              renew: bool = False) -> dict[str, Any]:
    """The observers' watch link: open to anyone with the address, needing the link's secret (the
    watch token), or switched off.

    Switching to `token` makes a new token (secrets, 24 URL-safe characters) unless staff give one
    of at least 16 characters; staying in `token` keeps the link already given out unless `renew`.
    The token is in this reply only (`token`, `watch_path`): stored as an HMAC under the instance
    secret, never in clear, and withheld from a resend's stored reply (_without_token)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    try:
        chosen = WatchMode(mode)
    except ValueError:
        raise DomainError("bad_field", f"观看方式应为 {' / '.join(WatchMode)}",
                          params={"field": "mode"}) from None  # open / token / off
    reply: dict[str, Any] = {"mode": chosen.value}
    if chosen is WatchMode.TOKEN:
        if token is not None and token.strip():
            token = check_chosen_watch_token(token)
        elif renew or congress.watch_mode != WatchMode.TOKEN.value or not (
                congress.watch_token_hash or "").startswith(HMAC_PREFIX):
            token = new_watch_token()  # also replaces an argon2 hash of an older version
        else:
            token = None  # the link given out before keeps working
        if token is not None:
            congress.watch_token_hash = watch_token_digest(secret_key(ctx.session), token)
            reply.update(token=token, watch_path=watch_path(congress_id, token))
        else:
            reply["token_kept"] = True
    congress.watch_mode = chosen.value
    ctx.emit(congress_id, "watch.set", {"mode": chosen.value})
    return reply


def _without_token(reply: dict[str, Any]) -> dict[str, Any]:
    """What a resend of set_watch gets: the link's secret is shown once and never stored."""
    if "token" not in reply:
        return reply
    return {**reply, "token": None, "watch_path": None, "token_withheld": True}


# The rules' keys come from CongressRules itself, so a new rule is described as soon as it exists
_RULE_TYPES: dict[str, Any] = {"str": str, "bool": bool, "int": int, "tuple[int, ...]": ListOf(int)}
_RULE_WORDS = {
    "quorum": "法定人数: a fraction of all voting delegates (\"2/3\")",
    "quorum_inclusive": "true: at least the quorum; false: more than it",
    "cosigners_required": "附议人数 a proposal needs (0–20)",
    "late_proposals": "after the filing window: between_sessions (平时提案) / refuse",
    "leader_pre_review_groups": "the groups whose leader pre-reviews proposals (团长初审)",
}
RULES = Obj(tuple(Key(f.name, _RULE_TYPES[str(f.type)], _RULE_WORDS.get(f.name, ""), False)
                  for f in fields(CongressRules)), "the rules to change; the others keep their value")
WINDOW = Obj((Key("opens_at", str, "ISO 8601, null: no limit"), Key("closes_at", str, "ISO 8601, null: no limit")))

COMMANDS: tuple[Command, ...] = (
    Command("set_rules", set_rules, (Param("rules", dict, doc="要修改的规则", shape=RULES),), "修改本次职代会的规则",
            result=Obj((Key("rules", Obj(tuple(Key(k.name, k.spec, k.doc) for k in RULES.keys))),),
                       "e.g. `{\"quorum\": \"2/3\", \"quorum_inclusive\": true, \"cosigners_required\": 2}`; "
                       "an unknown rule is `bad_field`"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("set_check_in_window", set_check_in_window,
            (Param("opens_at", str, False, "签到开始时间（ISO 8601，带时区）"),
             Param("closes_at", str, False, "签到截止时间（ISO 8601，带时区）")), "设置签到开始和截止时间",
            result=WINDOW, errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("set_filing_window", set_filing_window,
            (Param("opens_at", str, False, "提案征集开始时间（ISO 8601，带时区）"),
             Param("closes_at", str, False, "提案征集截止时间（ISO 8601，带时区）")), "设置提案征集的开始和截止时间",
            result=Obj(WINDOW.keys, "提案征集 (empty or left out: no limit on that side). `closes_at` must be after "
                                    "`opens_at`. After the close `submit_proposal` makes a 平时提案 or refuses "
                                    "(`filing_closed`), by the rule `late_proposals`"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("set_stream", set_stream, (Param("kind", str, doc="none / hls / embed"),
                                       Param("url", str, False, "https://… or a path on this server (/…)"),
                                       Param("delay_seconds", int, False, "the stream's hold for observers")),
            "设置直播地址和延迟",
            result=Obj((Key("kind", str), Key("url", str), Key("delay_seconds", int),
                        Key("warning", str, "an http:// picture on a site served over HTTPS would be blocked", False)),
                       "`http://…` only when the site is not served over HTTPS, and then with a `warning`"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("set_watch", set_watch,
            (Param("mode", str, doc="open / token / off"),
             Param("token", str, False, "观看口令，至少 16 个字符；不填则由系统生成"),
             Param("renew", bool, False, "重新生成观看链接（旧链接失效）")),
            "设置观看链接（口令方式的链接只显示一次）", stored_reply=_without_token,
            result=Obj((Key("mode", str), Key("token", str, "shown this once; a resend gets null", False),
                        Key("watch_path", str, "/watch?congress=ID&watch=TOKEN", False),
                        Key("token_withheld", bool, "true on a resend", False),
                        Key("token_kept", bool, "token mode kept without renew: the link given out before", False)),
                       "switching to `token` from another mode always makes a new link"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
)
