"""`congress notices test`: one test message on a configured channel or to an e-mail address, sent
at once (not through the outbox), so staff see that the robot or the SMTP server accepts it."""

from __future__ import annotations

from datetime import UTC, datetime

from congress.db.engine import Database
from congress.db.models import Department, NoticeChannel
from congress.domain.errors import DomainError
from congress.domain.notices import AUDIENCES, CHANNEL_KINDS, mask_address
from congress.notices import channels
from congress.notices.settings import public_url, smtp_settings

SUBJECT = "【测试】职代会系统通知测试"
BODY = "这是一条测试消息：本渠道可以收到职代会系统的通知。"


def send_test(url: str, *, channel_id: int | None = None, email: str | None = None) -> str:
    now = datetime.now(UTC)
    try:
        if email:
            channels.send_email(smtp_settings(), email, SUBJECT, BODY, public_url(),
                                message_id=channels.message_id(0, public_url()), now=now)
            return f"测试邮件已发送：{email}"
        db = Database(url)
        try:
            with db.read() as session:
                channel = session.get(NoticeChannel, channel_id)
                if channel is None:
                    raise DomainError("not_found", f"找不到通知渠道（编号 {channel_id}）")
                department = session.get(Department, channel.department_id) if channel.department_id else None
                kind, address, secret = channel.kind, channel.address, channel.secret
                who = department.name if department else AUDIENCES[channel.audience]
        finally:
            db.dispose()
        if kind == "email":
            channels.send_email(smtp_settings(), address, SUBJECT, BODY, public_url(),
                                message_id=channels.message_id(0, public_url()), now=now)
        else:
            channels.send_webhook(kind, address, secret, SUBJECT, BODY, public_url(), now=now)
    except channels.SendFailed as failure:
        raise DomainError("send_failed", f"测试消息未能发送：{failure}") from None
    return f"测试消息已发送：{CHANNEL_KINDS[kind]} → {who}（{mask_address(kind, address)}）"
