"""Setting up a congress: create it with its groups, its rules, check-in window, stream and watch link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.auth import hash_secret
from congress.commands import Command, Param, register
from congress.db.models import Congress, Group
from congress.domain.errors import DomainError
from congress.domain.rules import CongressRules
from congress.permissions import Permission


def create_congress(ctx: Context, name: str, group_names: list[str], *, is_rehearsal: bool = False) -> Congress:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    name = name.strip()
    names = [g.strip() for g in group_names if g.strip()]
    if not name:
        raise DomainError("bad_field", "职代会名称不能为空")
    if not names:
        raise DomainError("bad_field", "至少需要一个代表团(组)")
    duplicates = sorted({g for g in names if names.count(g) > 1})
    if duplicates:
        raise DomainError("bad_field", f"代表团(组)名称重复：{'、'.join(duplicates)}")
    congress = Congress(name=name, is_rehearsal=is_rehearsal, rules=CongressRules().to_json(),
                        created_at=ctx.now)
    ctx.session.add(congress)
    ctx.session.flush()
    for position, group_name in enumerate(names):
        ctx.session.add(Group(congress_id=congress.id, name=group_name, position=position))
    ctx.session.flush()
    ctx.emit(congress.id, "congress.created", {"name": name, "groups": names, "is_rehearsal": is_rehearsal})
    return congress


def add_groups(ctx: Context, congress_id: int, names: list[str]) -> list[Group]:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
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
        raise DomainError("bad_field", f"{field} 不是有效的时间（ISO 8601，例如 2026-12-01T08:30:00+08:00）") from exc
    if parsed.tzinfo is None:
        raise DomainError("bad_field", f"{field} 需要带时区，例如 +08:00")
    return parsed


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
    opens, closes = _parse_time(opens_at, "opens_at"), _parse_time(closes_at, "closes_at")
    if opens and closes and closes <= opens:
        raise DomainError("bad_field", "签到截止时间必须晚于开始时间")
    congress.check_in_opens_at, congress.check_in_closes_at = opens, closes
    payload = {"opens_at": opens.isoformat() if opens else None, "closes_at": closes.isoformat() if closes else None}
    ctx.emit(congress_id, "check_in.window_set", payload)
    return payload


STREAM_KINDS = ("none", "hls", "embed")


def set_stream(ctx: Context, congress_id: int, kind: str, url: str | None = None,
               delay_seconds: int = 0) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    if kind not in STREAM_KINDS:
        raise DomainError("bad_field", "直播类型应为 none / hls / embed")
    warning = _check_stream_url(url, is_https=ctx.is_https) if kind != "none" else None
    if not 0 <= delay_seconds <= 120:
        raise DomainError("bad_field", "直播延迟应在 0–120 秒之间")
    congress.stream_kind, congress.stream_url = kind, (url if kind != "none" else None)
    congress.stream_delay_seconds = delay_seconds
    payload = {"kind": kind, "url": congress.stream_url, "delay_seconds": delay_seconds}
    ctx.emit(congress_id, "stream.set", payload)
    return {**payload, "warning": warning} if warning else payload


def _check_stream_url(url: str | None, *, is_https: bool) -> str | None:
    """A page served over HTTPS may not load an http:// picture (browsers block mixed content), so
    behind HTTPS the address must be https:// or a path on this server; on a plain-HTTP site an
    http:// address plays, and staff are warned that it stops when the site moves to HTTPS."""
    url = url or ""
    if is_https:
        if not url.startswith(("https://", "/")):
            raise DomainError("bad_field", "本站使用 HTTPS，直播地址应以 https:// 开头（或为本站的 /… 地址）："
                                           "浏览器会拦截 http:// 的画面")
        return None
    if not url.startswith(("https://", "http://", "/")):
        raise DomainError("bad_field", "直播地址应以 https:// 或 http:// 开头（或为本站的 /… 地址）")
    if url.startswith("http://"):
        return "直播地址是 http://：本站改用 HTTPS 后浏览器会拦截它，建议使用 https:// 地址"
    return None


def set_watch(ctx: Context, congress_id: int, mode: str, token: str | None = None) -> dict[str, Any]:
    """The observers' watch link: open to anyone with the link, needing a token, or switched off."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    congress = ctx.get(Congress, congress_id, "职代会")
    if mode not in ("open", "token", "off"):
        raise DomainError("bad_field", "观看方式应为 open / token / off")
    if mode == "token":
        if not token or len(token) < 8:
            raise DomainError("bad_field", "观看口令至少 8 位")
        congress.watch_token_hash = hash_secret(token)
    congress.watch_mode = mode
    ctx.emit(congress_id, "watch.set", {"mode": mode})
    return {"mode": mode}


register(
    Command("set_rules", set_rules, (Param("rules", dict, doc="要修改的规则"),), "修改本次职代会的规则"),
    Command("set_check_in_window", set_check_in_window,
            (Param("opens_at", str, False), Param("closes_at", str, False)), "设置签到开始和截止时间"),
    Command("set_stream", set_stream, (Param("kind", str), Param("url", str, False),
                                       Param("delay_seconds", int, False)), "设置直播地址和延迟"),
    Command("set_watch", set_watch, (Param("mode", str), Param("token", str, False)), "设置观看链接"),
)
