"""Staff set who hears what (set_notices) and see the outbox (notices_view): rules, channels
(e-mail addresses and group-robot webhooks, per department or for staff), delegates' e-mail.

A webhook's address holds the robot's key: it is stored to be used, and shown masked everywhere,
in the reply, the event and the page, from the moment it is saved.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Congress, Delegate, Department, Notice, NoticeChannel, NoticeConfig
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.notices import (
    AUDIENCES,
    CHANNEL_KINDS,
    RULES,
    check_address,
    check_rules,
    mask_address,
    rules_of,
)
from congress.domain.permissions import Permission
from congress.reads.notices import failure_json

MAX_CHANNELS = 200  # per congress: a channel or two per department


def set_notices(ctx: Context, congress_id: int, rules: dict[str, Any] | None = None,
                add_channel: dict[str, Any] | None = None, remove_channel: int | None = None,
                delegate_emails: dict[str, Any] | None = None) -> dict[str, Any]:
    """Change a congress's notice rules, add or remove a channel, set delegates' e-mail (by 工号)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    ctx.get(Congress, congress_id, "职代会")
    changed: list[str] = []
    if rules:
        config = ctx.session.get(NoticeConfig, congress_id)
        if config is None:
            config = NoticeConfig(congress_id=congress_id, rules={}, updated_at=ctx.now)
            ctx.session.add(config)
        config.rules = {**(config.rules or {}), **check_rules(rules)}
        config.updated_at = ctx.now
        changed.append("rules")
    if add_channel:
        _add_channel(ctx, congress_id, add_channel)
        changed.append("channel_added")
    if remove_channel is not None:
        channel = ctx.find(NoticeChannel, remove_channel, congress_id, f"找不到通知渠道（编号 {remove_channel}）")
        ctx.session.delete(channel)
        changed.append("channel_removed")
    if delegate_emails:
        _set_emails(ctx, congress_id, delegate_emails)
        changed.append("delegate_emails")
    if not changed:
        raise DomainError("missing_field", "请给出要修改的内容：rules、add_channel、remove_channel 或 delegate_emails")
    ctx.session.flush()
    data = notices_config(ctx, congress_id)
    ctx.emit(congress_id, "notices.set", {"changed": changed, **data}, Audience.STAFF)
    return data


def _add_channel(ctx: Context, congress_id: int, spec: dict[str, Any]) -> None:
    audience = spec.get("audience")
    if audience not in AUDIENCES:
        raise DomainError("bad_field", f"通知对象应为：{'、'.join(AUDIENCES)}",
                          params={"field": "add_channel.audience"})
    kind = spec.get("kind")
    address = check_address(str(kind), str(spec.get("address") or ""))
    department_id = None
    if audience == "department":
        name = spec.get("department")
        department = ctx.session.scalar(sa.select(Department).where(
            Department.id == name if isinstance(name, int) else Department.name == str(name or "")))
        if department is None:
            raise DomainError("not_found", f"没有承办部门“{name}”")
        department_id = department.id
    secret = spec.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) > 200 or kind not in ("dingtalk", "feishu")):
        raise DomainError("bad_field", "签名密钥只用于钉钉或飞书机器人，最长 200 个字符", params={"field": "add_channel.secret"})
    count = ctx.session.scalar(sa.select(sa.func.count()).select_from(NoticeChannel).where(
        NoticeChannel.congress_id == congress_id)) or 0
    if count >= MAX_CHANNELS:
        raise DomainError("too_many", f"每次职代会最多 {MAX_CHANNELS} 个通知渠道")
    ctx.session.add(NoticeChannel(congress_id=congress_id, audience=audience, department_id=department_id,
                                  kind=kind, address=address, secret=(secret or "").strip() or None,
                                  created_at=ctx.now))


def _set_emails(ctx: Context, congress_id: int, emails: dict[str, Any]) -> None:
    people = {d.employee_id: d for d in ctx.session.scalars(sa.select(Delegate).where(
        Delegate.congress_id == congress_id, Delegate.employee_id.in_(list(emails))))}
    missing = [e for e in emails if e not in people]
    if missing:
        raise DomainError("not_found", f"名册中没有工号：{'、'.join(missing[:10])}")
    for employee_id, email in emails.items():
        people[employee_id].email = check_address("email", str(email), "delegate_emails") if email else None


def notices_config(ctx: Context, congress_id: int) -> dict[str, Any]:
    config = ctx.session.get(NoticeConfig, congress_id)
    rules = rules_of(config.rules if config else None)
    names = {i: n for i, n in ctx.session.execute(sa.select(Department.id, Department.name))}
    channels = [{"id": c.id, "audience": c.audience, "audience_label": AUDIENCES[c.audience],
                 "department": names.get(c.department_id) if c.department_id else None,
                 "kind": c.kind, "kind_label": CHANNEL_KINDS[c.kind], "address": mask_address(c.kind, c.address),
                 "signed": bool(c.secret)}
                for c in ctx.session.scalars(sa.select(NoticeChannel).where(
                    NoticeChannel.congress_id == congress_id).order_by(NoticeChannel.id))]
    with_email = ctx.session.scalar(sa.select(sa.func.count()).select_from(Delegate).where(
        Delegate.congress_id == congress_id, Delegate.email.is_not(None))) or 0
    return {"rules": [{"key": k, "on": rules[k], "words": words} for k, (_d, words) in RULES.items()],
            "channels": channels, "delegates_with_email": with_email}


def notices_view(ctx: Context, congress_id: int) -> dict[str, Any]:
    """The staff page's notices section: the configuration and the outbox (counts, last failures)."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    ctx.get(Congress, congress_id, "职代会")
    counts = {s: n for s, n in ctx.session.execute(sa.select(Notice.status, sa.func.count()).where(
        Notice.congress_id == congress_id).group_by(Notice.status))}
    failed = ctx.session.scalars(sa.select(Notice).where(Notice.congress_id == congress_id, Notice.status == "failed")
                                 .order_by(Notice.id.desc()).limit(20))
    return {**notices_config(ctx, congress_id),
            "outbox": {s: counts.get(s, 0) for s in ("pending", "sending", "sent", "failed", "cancelled")},
            "failures": [failure_json(n) for n in failed]}


# The rules' keys come from congress.domain.notices.RULES itself
NOTICE_RULES = Obj(tuple(Key(k, bool, words, False) for k, (_default, words) in RULES.items()), "规则: on or off")
CHANNEL = Obj((Key("audience", str, "department / staff / delegates"),
               Key("department", str, "the department (its name or id) when audience is department", False),
               Key("kind", str, "email / wecom / dingtalk / feishu"), Key("address", str, "an e-mail or a webhook URL"),
               Key("secret", str, "dingtalk, feishu: the signing secret", False)))
CONFIG = (Key("rules", ListOf(Obj((Key("key", str), Key("on", bool), Key("words", str))))),
          Key("channels", ListOf(Obj((Key("id", int), Key("audience", str), Key("audience_label", str),
                                      Key("department", str), Key("kind", str), Key("kind_label", str),
                                      Key("address", str, "masked"), Key("signed", bool))))),
          Key("delegates_with_email", int))

COMMANDS: tuple[Command, ...] = (
    Command("set_notices", set_notices, (
        Param("rules", dict, False, doc="通知规则：{规则: 是/否}", shape=NOTICE_RULES),
        Param("add_channel", dict, False, doc="一个通知渠道", shape=CHANNEL),
        Param("remove_channel", int, False, doc="通知渠道编号"),
        Param("delegate_emails", dict, False, doc="{工号: 电子邮件}",
              shape=MapOf("工号", str, "the address; empty: none"))), "设置通知：谁在何时收到什么",
        result=Obj(CONFIG, "the configuration; a webhook's address is never sent back in full (docs/notices.md)"),
        errors=("bad_field", "missing_field", "not_found", "too_many"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("notices_view", notices_view, (), "通知设置与发送情况（待发、已发、失败）", writes=False,
            result=Obj((*CONFIG, Key("outbox", Obj(tuple(Key(s, int) for s in (
                "pending", "sending", "sent", "failed", "cancelled")))),
                Key("failures", ListOf(Obj((Key("id", int), Key("kind", str), Key("channel", str),
                                            Key("recipient", str), Key("subject", str), Key("attempts", int),
                                            Key("error", str), Key("words", str)))), "the last 20"))),
            errors=("not_found",), permissions=(Permission.MANAGE_CONGRESS,)),
)
