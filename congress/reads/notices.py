"""What staff read of the notices: a failed notice, without its address."""

from __future__ import annotations

from typing import Any

from congress.db.models import Notice
from congress.domain.notices import CHANNEL_KINDS


def failure_json(notice: Notice) -> dict[str, Any]:
    """What staff see of a failed notice: what, on which channel, to whom, why; never an address."""
    channel = CHANNEL_KINDS.get(notice.channel, notice.channel)
    return {"id": notice.id, "kind": notice.kind, "channel": notice.channel, "recipient": notice.recipient_label,
            "subject": notice.subject, "attempts": notice.attempts, "error": notice.last_error,
            "words": f"通知发送失败：{notice.subject}（{channel} → {notice.recipient_label}）：{notice.last_error}"}
